"""Emitting events: a row in the caller's transaction, delivered after it commits.

A module calls :func:`emit` with one of its own :class:`~almacen.EventType` objects, in the
same session as the rows that caused the event (the transactional outbox): both commit or
neither does. When the session commits, the database's ``on_events`` callback (the
in-process dispatcher, in the embedded default) is told there is work.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from marshmallow import Schema, ValidationError
from sqlalchemy import event as sa_event
from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..bulk import bulk_insert
from ..db import UnscopedQueryError, new_id, utcnow
from ..module import EventType
from .models import Event

__all__ = [
    "Causation",
    "EventPayloadError",
    "caused_by",
    "emit",
    "emit_many",
    "serialise_payload",
    "session_memo",
]

EMITTED = "almacen.emitted"
MEMO = "almacen.memo"
T = TypeVar("T")
CAUSATION = "almacen.causation"
_INSERT = insert(Event)


class EventPayloadError(ValueError):
    """Raised when a module emits a payload its own event schema rejects: a bug to fix."""


@dataclasses.dataclass(frozen=True)
class Causation:
    """Which blueprint rule (and experiment arm) is running, stamped on what it emits."""

    cause_id: str
    service: str | None
    rule: str | None
    arm: str | None
    depth: int


@contextlib.contextmanager
def caused_by(session: Session, causation: Causation) -> Iterator[None]:
    """Stamp ``causation`` on every event emitted in ``session`` inside the block."""
    previous = session.info.get(CAUSATION)
    session.info[CAUSATION] = causation
    try:
        yield
    finally:
        session.info[CAUSATION] = previous


_SCHEMAS: dict[type[Schema], Schema] = {}


def _schema(event_type: EventType) -> Schema:
    """One instance of the type's schema per process: building one costs as much as a dump,
    and dumping and validating keep no state on it."""
    found = _SCHEMAS.get(event_type.schema)
    if found is None:
        found = _SCHEMAS[event_type.schema] = event_type.schema()
    return found


def serialise_payload(
    event_type: EventType, payload: Mapping[str, Any] | Any, *, schema: Schema | None = None
) -> dict[str, Any]:
    """Dump ``payload`` through the event type's schema: JSON-safe, and only its fields.

    :param schema: an instance of the type's schema to reuse; a bulk emitter builds one for
        all its rows (building it costs as much as dumping).
    """
    schema = _schema(event_type) if schema is None else schema
    dumped = dict(schema.dump(payload))
    errors = schema.validate(dumped)
    if errors:
        raise EventPayloadError(f"{event_type.name} payload breaks its schema: {errors}")
    return dumped


def emit(
    session: Session,
    event_type: EventType,
    payload: Mapping[str, Any] | Any,
    *,
    subject: tuple[str, str] | None = None,
) -> str:
    """Write an event in the session's transaction; it is delivered once the session commits.
    Returns its id.

    :param session: a session open for the tenant the event belongs to.
    :param event_type: the module's own event type; ``payload`` is dumped through its schema.
    :param payload: a mapping or an object the schema can dump.
    :param subject: ``(type, id)`` of what the event is about, e.g. ``("account", id)``;
        webhooks and the event log filter on it, and experiments assign arms by it.
    :raises EventPayloadError: when the payload breaks the schema.
    """
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise UnscopedQueryError("events are emitted in a session opened for a tenant")
    try:
        body = serialise_payload(event_type, payload)
    except ValidationError as exc:  # a dump-time failure of a custom field
        raise EventPayloadError(f"{event_type.name}: {exc.messages}") from exc
    row = _row(tenant_id, event_type, body, subject, session.info.get(CAUSATION), utcnow())
    # A Core INSERT now rather than an object for the commit's flush: one statement either
    # way, without the unit of work's bookkeeping (a tenth of a payment's time).
    session.connection().execute(_INSERT, row)
    session.info[EMITTED] = True
    return str(row["id"])


def _row(
    tenant_id: str,
    event_type: EventType,
    body: dict[str, Any],
    subject: tuple[str, str] | None,
    causation: Causation | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The outbox row of one event."""
    return {
        "id": new_id(),
        "tenant_id": tenant_id,
        "type": event_type.name,
        "version": event_type.version,
        "subject_type": subject[0] if subject else None,
        "subject_id": str(subject[1]) if subject else None,
        "payload": body,
        "occurred_at": now,
        "next_attempt_at": now,
        "status": "pending",
        "attempts": 0,
        "depth": causation.depth if causation else 0,
        "cause_id": causation.cause_id if causation else None,
        "service": causation.service if causation else None,
        "rule": causation.rule if causation else None,
        "arm": causation.arm if causation else None,
    }


def emit_many(
    session: Session,
    event_type: EventType,
    items: Iterable[tuple[Mapping[str, Any] | Any, tuple[str, str] | None]],
) -> int:
    """Emit one event per ``(payload, subject)`` in one bulk write.

    For set-based jobs (the aging run moves thousands of accounts): the same rows as
    :func:`emit`, without an ORM object each. Returns how many were emitted.
    On PostgreSQL the rows go through ``COPY`` (:func:`~almacen.gateway.bulk.bulk_insert`).
    """
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise UnscopedQueryError("events are emitted in a session opened for a tenant")
    causation: Causation | None = session.info.get(CAUSATION)
    now = utcnow()
    schema = _schema(event_type)
    rows = [
        _row(
            tenant_id,
            event_type,
            serialise_payload(event_type, payload, schema=schema),
            subject,
            causation,
            now,
        )
        for payload, subject in items
    ]
    if rows:
        bulk_insert(session, Event, rows)
        session.info[EMITTED] = True
    return len(rows)


def session_memo(session: Session, name: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per session and tenant: what consumers read for every event.

    A delivery batch is one session; a consumer's configuration (a tenant's webhook
    endpoints, its active blueprints) is read for its first event and reused for the rest.
    It is read again by the next batch, so a change is seen within one batch.
    """
    key = (MEMO, name, session.info.get("tenant_id"))
    if key not in session.info:
        session.info[key] = compute()
    value: T = session.info[key]
    return value


@sa_event.listens_for(Session, "after_commit")
def _wake_dispatcher(session: Session) -> None:
    if not session.info.pop(EMITTED, False):
        return
    wake = session.info.get("on_events")
    if wake is not None:
        wake()


@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(EMITTED, None)
