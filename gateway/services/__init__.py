"""Service blueprints: services composed from modules by *when → if → do* rules.

An essential plugin of the gateway: its ``almacen_handle_event`` runs the active rules of the
event's tenant (see :mod:`.engine`). Documents and checks are in :mod:`.blueprint`, the
expression language in :mod:`.expressions`, champion/challenger statistics in
:mod:`.experiments`, and the operations behind the API and the CLI in :mod:`.service`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..markers import hookimpl
from .blueprint import Blueprint, BlueprintInvalidError, check_blueprint, parse_document
from .engine import handle_event, simulate
from .expressions import ExpressionError, evaluate, render
from .models import ExperimentAssignment, RuleRun, Service, ServiceVersion

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..events import Event
    from ..settings import Settings

__all__ = [
    "Blueprint",
    "BlueprintInvalidError",
    "ExperimentAssignment",
    "ExpressionError",
    "RuleRun",
    "Service",
    "ServiceVersion",
    "almacen_handle_event",
    "check_blueprint",
    "evaluate",
    "handle_event",
    "parse_document",
    "render",
    "simulate",
]


@hookimpl
def almacen_handle_event(session: Session, event: Event, settings: Settings) -> None:
    """Run the tenant's active blueprint rules ``when`` this event's type."""
    handle_event(session, event, settings)
