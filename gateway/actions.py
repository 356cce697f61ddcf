"""Running a module's named action for a tenant, in the caller's transaction.

This is how modules, blueprints and bots use each other without importing each other:
``run_action(session, "scoring.score", {...})``. The call checks that the action exists, that
its module is installed and that the session's tenant subscribes to it, validates the input
with the action's marshmallow schema and returns the output dumped by its output schema (so
inputs and outputs are plain JSON, the same on every path). A caller degrades on
:class:`ActionUnavailableError` (the bot says it cannot quote a balance rather than crash).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import UnscopedQueryError
from .errors import UnprocessableError, marshmallow_errors
from .tenancy.models import Subscription

if TYPE_CHECKING:
    from .module import Action
    from .plugins import PluginRegistry

__all__ = [
    "ActionInputError",
    "ActionUnavailableError",
    "find_action",
    "run_action",
    "subscribed_modules",
]

SUBSCRIPTIONS = "almacen.subscriptions"


class ActionUnavailableError(UnprocessableError):
    """Raised when an action cannot run for this tenant; ``reason`` says why.

    ``reason`` is ``unknown_action`` (no module registers it), ``module_not_installed`` or
    ``not_subscribed``. Callers that can do without the action catch this and degrade.
    """

    slug = "action-unavailable"
    title = "The action is not available to this tenant"

    def __init__(self, detail: str, *, action: str, reason: str) -> None:
        super().__init__(detail, action=action, reason=reason)
        self.action = action
        self.reason = reason


class ActionInputError(UnprocessableError):
    """Raised when an action's input breaks its schema; ``errors`` carry JSON pointers."""

    slug = "action-input-invalid"
    title = "The action's input is invalid"


def subscribed_modules(session: Session) -> frozenset[str]:
    """Modules the session's tenant subscribes to, read once per session and tenant."""
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise UnscopedQueryError("actions run in a session opened for a tenant")
    cache: dict[str, frozenset[str]] = session.info.setdefault(SUBSCRIPTIONS, {})
    if tenant_id not in cache:
        cache[tenant_id] = frozenset(session.scalars(select(Subscription.module)))
    return cache[tenant_id]


def find_action(registry: PluginRegistry, session: Session, name: str) -> Action:
    """The action ``name`` if the session's tenant may run it.

    :raises ActionUnavailableError: otherwise, saying why.
    """
    action = registry.actions.get(name)
    module = name.partition(".")[0]
    if action is None:
        if module not in registry.modules:
            raise ActionUnavailableError(
                f"no installed module provides {name!r}: module {module!r} is not installed",
                action=name,
                reason="module_not_installed",
            )
        raise ActionUnavailableError(
            f"module {module!r} has no action {name!r}", action=name, reason="unknown_action"
        )
    if action.module not in subscribed_modules(session):
        raise ActionUnavailableError(
            f"the tenant does not subscribe to {action.module!r}, which provides {name!r}",
            action=name,
            reason="not_subscribed",
        )
    return action


def run_action(
    session: Session,
    name: str,
    data: Mapping[str, Any],
    *,
    registry: PluginRegistry | None = None,
) -> dict[str, Any]:
    """Run action ``name`` for the session's tenant and return its dumped output.

    The action runs in ``session``'s transaction: its writes commit or roll back with the
    caller's. ``registry`` defaults to the app's, which every gateway session carries.

    :raises ActionUnavailableError: unknown action, module not installed, or not subscribed.
    :raises ActionInputError: ``data`` breaks the input schema (pointers into ``data``).
    """
    registry = registry or session.info.get("registry")
    if registry is None:
        raise RuntimeError("run_action needs a session of an Almacén app, or a registry")
    action = find_action(registry, session, name)
    try:
        loaded = action.input_schema().load(data)
    except ValidationError as exc:
        raise ActionInputError(
            f"input of {name!r} is invalid", errors=marshmallow_errors(exc.messages), action=name
        ) from None
    result = action.handler(session, session.info["tenant_id"], loaded)
    return dict(action.output_schema().dump(result))
