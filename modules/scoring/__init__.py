"""Scoring: scorecards as versioned data, trained, explained and monitored, and the
segmentation that maps each account to a treatment.

A built-in module registered through the ``almacen.plugins`` entry point like any other
plugin: this file only wires the module, its actions, its event types and the hook specs it
offers (``almacen_scoring_model_types``).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from typing import TYPE_CHECKING

from almacen import Action, EventType, Module, __version__, hookimpl

from .config import ScoringConfigSchema

if TYPE_CHECKING:
    from almacen.gateway.plugins import PluginRegistry


@hookimpl
def almacen_addhooks(registry: PluginRegistry) -> None:
    """Offer the scoring module's extension point (model types)."""
    from . import hookspecs

    registry.add_hookspecs(hookspecs)


@hookimpl
def almacen_register_module() -> Module:
    """Register the ``scoring`` module, mounted at ``/v1/scoring``."""
    return Module(
        name="scoring",
        version=__version__,
        title="Scoring",
        description=(
            "Scorecards as versioned data: trained from a tenant's labelled data, scoring "
            "with reason codes, champion and challengers, segmentation and drift monitoring."
        ),
        spec=files("almacen.openapi") / "scoring.yaml",
        api=f"{__name__}.api",
        config_schema=ScoringConfigSchema,
        migrations=files(__name__) / "migrations",
        models=f"{__name__}.models",
    )


@hookimpl
def almacen_register_actions() -> Iterable[Action]:
    """Register ``scoring.score``, ``scoring.score_many``, ``scoring.segment`` and
    ``scoring.segment_many``."""
    from . import score_actions, segment_actions

    return [*score_actions.ACTIONS, *segment_actions.ACTIONS]


@hookimpl
def almacen_register_events() -> Iterable[EventType]:
    """Register the event types the scoring module emits (defined in :mod:`.events`)."""
    from . import events

    return list(events.ALL)
