"""Offers: settlements, payment plans and refinancing within each client firm's bounds.

A built-in module registered through the ``almacen.plugins`` entry point like any other
plugin: this file only wires the module, its actions, its event types and the hook specs it
offers (``almacen_offers_offer_types``).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from typing import TYPE_CHECKING

from almacen import Action, EventType, Module, __version__, hookimpl

from .config import OffersConfigSchema

if TYPE_CHECKING:
    from almacen.gateway.plugins import PluginRegistry


@hookimpl
def almacen_addhooks(registry: PluginRegistry) -> None:
    """Offer the offers module's extension point (offer types)."""
    from . import hookspecs

    registry.add_hookspecs(hookspecs)


@hookimpl
def almacen_register_module() -> Module:
    """Register the ``offers`` module, mounted at ``/v1/offers``."""
    return Module(
        name="offers",
        version=__version__,
        title="Offers",
        description=(
            "Offer policies per segment, bucket or score band; an offer menu per account "
            "(pay in full, settlement, instalment plans, refinancing) ranked by expected "
            "recovery; negotiation of counters; acceptance that installs the plan in the ledger."
        ),
        spec=files("almacen.openapi") / "offers.yaml",
        api=f"{__name__}.api",
        config_schema=OffersConfigSchema,
        migrations=files(__name__) / "migrations",
        models=f"{__name__}.models",
    )


@hookimpl
def almacen_register_actions() -> Iterable[Action]:
    """Register the offers module's actions (defined in :mod:`.actions`)."""
    from . import actions

    return list(actions.ACTIONS)


@hookimpl
def almacen_register_events() -> Iterable[EventType]:
    """Register the event types the offers module emits (defined in :mod:`.events`)."""
    from . import events

    return list(events.ALL)
