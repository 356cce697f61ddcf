"""The channel providers an app has: the built-in ones, then those plugins add.

Plugins add providers through the ``almacen_notifications_channels`` hook; a provider whose
name is taken (by a built-in or an earlier plugin) is ignored, so a plugin cannot take over
a built-in's credentials.
"""

from __future__ import annotations

import functools
import itertools
from typing import Any

from sqlalchemy.orm import Session

from .http import HttpProvider
from .interfaces import ChannelProvider
from .smtp import SmtpProvider
from .webhook import WebhookProvider

__all__ = ["builtin_providers", "channel_names", "providers"]


@functools.cache
def builtin_providers() -> tuple[ChannelProvider, ...]:
    """The providers Almacén ships (one instance per process: SMTP pools connections)."""
    return (SmtpProvider(), HttpProvider("sms"), HttpProvider("whatsapp"), WebhookProvider())


def _plugin_providers(registry: Any) -> list[ChannelProvider]:
    hook = getattr(registry.hook, "almacen_notifications_channels", None) if registry else None
    if hook is None:
        return []
    return [p for p in itertools.chain.from_iterable(r for r in hook() if r)]


def providers(session: Session | None) -> dict[str, ChannelProvider]:
    """Every provider by name: built-ins first, then plugins' (through the session's registry)."""
    registry = session.info.get("registry") if session is not None else None
    found: dict[str, ChannelProvider] = {}
    for provider in (*builtin_providers(), *_plugin_providers(registry)):
        found.setdefault(provider.name, provider)
    return found


def channel_names(session: Session | None) -> set[str]:
    """The channels some provider serves."""
    return {provider.channel for provider in providers(session).values()}
