"""The event catalogue, a tenant's event log, and the operators' dead letters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import RequestValidationError
from ..events import service
from ..events.schemas import AdminEventSchema, EventSchema, event_type_entry
from ..state import current_gateway, request_session, visible_modules

_event = EventSchema()
_admin_event = AdminEventSchema()


def types() -> dict[str, Any]:
    """Event types of the modules the caller subscribes to (every installed one for admins)."""
    allowed = visible_modules()
    catalogue = current_gateway().registry.event_types
    return {
        "items": [
            event_type_entry(catalogue[n])
            for n in sorted(catalogue)
            if catalogue[n].module in allowed
        ]
    }


def search(
    limit: int = 50,
    cursor: str | None = None,
    type: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """A page of the calling tenant's events, oldest first."""
    page = service.list_events(
        request_session(),
        type=type,
        subject_type=subject_type,
        subject_id=subject_id,
        since=_instant("since", since),
        until=_instant("until", until),
        limit=limit,
        cursor=cursor,
    )
    return {"items": _event.dump(page.items, many=True), "next": page.next_cursor}


def _instant(parameter: str, text: str | None) -> dt.datetime | None:
    # connexion checks the format loosely and hands the string over.
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise RequestValidationError(
            f"{parameter} must be an RFC 3339 date-time with an offset",
            errors=[{"parameter": parameter, "detail": f"{text!r} is not a date-time with offset"}],
        )
    return value


def get(event_id: str) -> dict[str, Any]:
    """One of the calling tenant's events."""
    return dict(_event.dump(service.get_event(request_session(), event_id)))


def admin_search(
    status: str = "dead", tenant_id: str | None = None, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    """Operators: dead (or pending) events of every tenant."""
    page = service.list_undelivered(
        request_session(), status=status, tenant_id=tenant_id, limit=limit, cursor=cursor
    )
    return {"items": _admin_event.dump(page.items, many=True), "next": page.next_cursor}


def replay(event_id: str) -> dict[str, Any]:
    """Operators: put a dead event back in the outbox."""
    event = service.replay_event(request_session(), event_id)
    return dict(_admin_event.dump(event))
