"""Bots: a 24x7 virtual assistant that negotiates within policy and captures promises to pay.

A built-in module registered through the ``almacen.plugins`` entry point like any other
plugin: this file only wires the module, its event types, the inbound-message consumer, its
command (``almacen bots evaluate``, in :mod:`.commands`) and the hook spec it offers
(``almacen_bots_intents``).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from typing import TYPE_CHECKING

from almacen import EventType, Module, __version__, hookimpl

from .commands import almacen_register_commands  # noqa: F401
from .config import BotsConfigSchema
from .intents import IntentContext as IntentContext
from .intents import IntentReply as IntentReply
from .intents import PluginIntent as PluginIntent

if TYPE_CHECKING:
    from connexion import FlaskApp
    from sqlalchemy.orm import Session

    from almacen.gateway.events.models import Event
    from almacen.gateway.plugins import PluginRegistry

__all__ = ["IntentContext", "IntentReply", "PluginIntent"]


@hookimpl
def almacen_addhooks(registry: PluginRegistry) -> None:
    """Offer the bots module's extension point (plugin intents)."""
    from . import hookspecs

    registry.add_hookspecs(hookspecs)


@hookimpl
def almacen_register_module() -> Module:
    """Register the ``bots`` module, mounted at ``/v1/bots``."""
    return Module(
        name="bots",
        version=__version__,
        title="Bots",
        description=(
            "A virtual assistant for debtors over HTTP, SMS and WhatsApp: it discloses, "
            "verifies identity, quotes the balance, negotiates within the offer policy, "
            "captures promises with a read-back, records disputes and opt-outs and hands over "
            "to people; transcripts, per-tenant templates and retrainable understanding."
        ),
        spec=files("almacen.openapi") / "bots.yaml",
        api=f"{__name__}.api",
        config_schema=BotsConfigSchema,
        migrations=files(__name__) / "migrations",
        models=f"{__name__}.models",
    )


@hookimpl
def almacen_prepare_app(app: FlaskApp) -> None:
    """Load the bots' understanding as the app starts, not in a debtor's first turn."""
    from almacen.gateway.state import EXTENSION

    from . import warmup

    gateway = app.app.extensions.get(EXTENSION)
    if gateway is not None and "bots" in gateway.registry.modules:
        warmup.warm_app(gateway.registry)


@hookimpl
def almacen_register_events() -> Iterable[EventType]:
    """Register the event types the bots module emits (defined in :mod:`.events`)."""
    from . import events

    return list(events.ALL)


@hookimpl
def almacen_handle_event(session: Session, event: Event) -> None:
    """Answer inbound SMS/WhatsApp messages (``notifications.message_received``)."""
    from . import inbound

    if event.type == inbound.EVENT:
        inbound.handle_message(session, dict(event.payload))
