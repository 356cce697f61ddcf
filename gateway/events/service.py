"""Reading the event log and operating the dead letters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db import utcnow
from ..errors import ConflictError, NotFoundError
from ..pagination import Page, paginate
from .models import Event

__all__ = ["get_event", "list_events", "list_undelivered", "replay_event"]


def list_events(
    session: Session,
    *,
    type: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[Event]:
    """A page of the session's tenant's events, oldest first, filtered."""
    statement = select(Event)
    if type is not None:
        # ``ledger.*`` lists a module's events.
        if type.endswith(".*"):
            statement = statement.where(Event.type.startswith(type[:-1], autoescape=True))
        else:
            statement = statement.where(Event.type == type)
    if subject_type is not None:
        statement = statement.where(Event.subject_type == subject_type)
    if subject_id is not None:
        statement = statement.where(Event.subject_id == subject_id)
    if since is not None:
        statement = statement.where(Event.occurred_at >= since)
    if until is not None:
        statement = statement.where(Event.occurred_at < until)
    return paginate(
        session, statement, keys=(Event.occurred_at, Event.id), limit=limit, cursor=cursor
    )


def get_event(session: Session, event_id: str) -> Event:
    """One of the session's tenant's events. :raises NotFoundError: unknown or another's."""
    event = session.scalar(select(Event).where(Event.id == event_id))
    if event is None:
        raise NotFoundError(f"no event {event_id!r}", event_id=event_id)
    return event


def list_undelivered(
    session: Session,
    *,
    status: str,
    tenant_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[Event]:
    """Operators: a page of dead (or pending) events of every tenant, or of one."""
    statement = select(Event).where(Event.status == status).execution_options(all_tenants=True)
    if tenant_id is not None:
        statement = statement.where(Event.tenant_id == tenant_id)
    return paginate(
        session, statement, keys=(Event.occurred_at, Event.id), limit=limit, cursor=cursor
    )


def replay_event(session: Session, event_id: str) -> Event:
    """Put a dead (or delivered) event back in the outbox, whoever's it is (operators).

    Only the consumers that failed rerun; a delivered event reruns every consumer, which
    ignore an id they have seen.

    :raises NotFoundError: no such event.
    :raises ConflictError: the event is pending, already on its way.
    """
    event = session.scalar(
        select(Event).where(Event.id == event_id).execution_options(all_tenants=True)
    )
    if event is None:
        raise NotFoundError(f"no event {event_id!r}", event_id=event_id)
    if event.status == "pending":
        raise ConflictError(
            f"event {event_id} is pending: it is already being delivered", event_id=event_id
        )
    # Core UPDATE: the row may be another tenant's than the (operator's) session's.
    session.execute(
        update(Event)
        .where(Event.id == event_id)
        .values(status="pending", attempts=0, next_attempt_at=utcnow(), delivered_at=None)
        .execution_options(all_tenants=True)
    )
    replayed = session.scalar(
        select(Event)
        .where(Event.id == event_id)
        .execution_options(all_tenants=True, populate_existing=True)
    )
    assert replayed is not None
    return replayed
