"""Almacén apprise: notification channels through Apprise, for the notifications module.

An example third-party plugin. It adds no module of its own: it implements the
notifications module's ``almacen_notifications_channels`` hook with two providers
(:mod:`.provider`): ``apprise`` (channel ``apprise``, any Apprise service) and
``apprise_telegram`` (channel ``telegram``).
"""

from __future__ import annotations

from collections.abc import Iterable

from almacen import hookimpl
from almacen.modules.notifications.channels import ChannelProvider

from .provider import PROVIDERS, AppriseCredentialsSchema, AppriseProvider

__all__ = [
    "AppriseCredentialsSchema",
    "AppriseProvider",
    "almacen_notifications_channels",
]


@hookimpl
def almacen_notifications_channels() -> Iterable[ChannelProvider]:
    """Offer the Apprise providers."""
    return PROVIDERS
