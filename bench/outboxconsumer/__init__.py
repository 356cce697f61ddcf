"""The benchmark's event consumer: records each event id, in the delivery transaction.

``bench/outbox.py`` registers it in ``almacen worker`` processes with
``ALMACEN_EXTRA_PLUGINS=outboxconsumer`` (``bench/`` on ``PYTHONPATH``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import text
from sqlalchemy.orm import Session

from almacen import EventType, hookimpl

TABLE_DDL = "CREATE TABLE bench_received (event_id VARCHAR(32) NOT NULL)"


class TickSchema(Schema):
    n = fields.Integer(required=True)


TICKED = EventType(name="bench.ticked", schema=TickSchema, description="A benchmark event.")

INSERT = text("INSERT INTO bench_received (event_id) VALUES (:id)")


@hookimpl
def almacen_handle_event(session: Session, event: Any, settings: Any) -> None:
    session.execute(INSERT, {"id": event.id})
