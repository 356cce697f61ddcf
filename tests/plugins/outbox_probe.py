"""An event consumer for the outbox tests: records each ``probe.happened`` it is handed.

Registered in process (``make_app(plugins=[("outbox_probe", outbox_probe)])``) or, in an
``almacen worker`` subprocess, with ``ALMACEN_EXTRA_PLUGINS=tests.plugins.outbox_probe``.
Its record is a row of ``probe_received`` written in the delivery transaction (so it is
exact: committed with the event's status, or not at all). The environment adds, for the
fault test, effects that escape the transaction:

- ``ALMACEN_TEST_PROBE_FILE``: append each event id to this file (flushed at once);
- ``ALMACEN_TEST_PROBE_DELAY``: seconds to sleep per event;
- ``ALMACEN_TEST_PROBE_HANG_AFTER``: after this many events in this process, create
  ``<probe file>.hang`` and sleep for a minute: the process is then certainly mid-batch.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import text
from sqlalchemy.orm import Session

from almacen import EventType, hookimpl
from almacen.gateway.events import Event

__all__ = ["PROBED", "TABLE_DDL"]

TABLE_DDL = (
    "CREATE TABLE IF NOT EXISTS probe_received (event_id VARCHAR(32), tenant_id VARCHAR(32))"
)


class ProbeSchema(Schema):
    n = fields.Integer(required=True)


PROBED = EventType(name="probe.happened", schema=ProbeSchema, description="A test probe.")

_handled = 0


@hookimpl
def almacen_handle_event(session: Session, event: Event, settings: Any) -> None:
    global _handled
    if event.type != PROBED.name:
        return
    session.execute(
        text("INSERT INTO probe_received (event_id, tenant_id) VALUES (:id, :tenant)"),
        {"id": event.id, "tenant": event.tenant_id},
    )
    path = os.environ.get("ALMACEN_TEST_PROBE_FILE")
    if path:
        with open(path, "a") as file:
            file.write(event.id + "\n")
    delay = float(os.environ.get("ALMACEN_TEST_PROBE_DELAY") or 0)
    if delay:
        time.sleep(delay)
    _handled += 1
    hang_after = int(os.environ.get("ALMACEN_TEST_PROBE_HANG_AFTER") or 0)
    if path and hang_after and _handled >= hang_after:
        Path(path + ".hang").touch()
        time.sleep(60)
