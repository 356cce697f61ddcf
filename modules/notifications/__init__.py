"""Notifications: omnichannel messages under contact law, consent and the debtor's hours.

A built-in module registered through the ``almacen.plugins`` entry point like any other
plugin: this file only wires the module, its actions, its event types, its worker tasks and
the hook specs it offers (``almacen_notifications_channels``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.resources import files
from typing import TYPE_CHECKING

from almacen import Action, EventType, Module, __version__, hookimpl

from .config import NotificationsConfigSchema

if TYPE_CHECKING:
    from almacen.gateway.db import Database
    from almacen.gateway.plugins import PluginRegistry
    from almacen.gateway.settings import Settings


@hookimpl
def almacen_addhooks(registry: PluginRegistry) -> None:
    """Offer the notifications module's extension point (channel providers)."""
    from . import hookspecs

    registry.add_hookspecs(hookspecs)


@hookimpl
def almacen_register_module() -> Module:
    """Register the ``notifications`` module, mounted at ``/v1/notifications``."""
    return Module(
        name="notifications",
        version=__version__,
        title="Notifications",
        description=(
            "Omnichannel messages (e-mail, SMS, WhatsApp, signed webhooks and plugin channels) "
            "from versioned, localised templates; a contact-policy API (local hours, holidays, "
            "frequency caps, consent, disputes, jurisdiction rule packs); sending through the "
            "outbox with receipts, retries and throttling; inbound replies and opt-outs."
        ),
        spec=files("almacen.openapi") / "notifications.yaml",
        api=f"{__name__}.api",
        config_schema=NotificationsConfigSchema,
        migrations=files(__name__) / "migrations",
        models=f"{__name__}.models",
    )


@hookimpl
def almacen_register_actions() -> Iterable[Action]:
    """Register the notifications module's actions (defined in :mod:`.actions`)."""
    from . import actions

    return list(actions.ACTIONS)


@hookimpl
def almacen_register_events() -> Iterable[EventType]:
    """Register the event types the notifications module emits (defined in :mod:`.events`)."""
    from . import events

    return list(events.ALL)


@hookimpl
def almacen_worker_tasks(db: Database, settings: Settings) -> Iterable[Callable[[], int]]:
    """The send loop: each worker cycle sends a batch of due messages."""
    from .sending import MessageSender

    return [MessageSender(db, settings)]
