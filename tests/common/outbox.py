"""A scratch database for the outbox tests, and ``almacen worker`` subprocesses on it.

The worker tests drain whole outboxes, so they get a database of their own (a SQLite file,
or a PostgreSQL database next to the worker's test database): they never deliver another
test's events, and no other test sees theirs.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from almacen.gateway import create_app, migrate
from almacen.gateway.app import gateway_of
from almacen.gateway.db import Database
from almacen.gateway.events import emit
from almacen.gateway.tenancy import service
from tests.plugins import outbox_probe

ROOT = Path(__file__).resolve().parents[2]
PROBE_PLUGIN = "tests.plugins.outbox_probe"


@contextlib.contextmanager
def scratch_database(tmp_path: Path) -> Iterator[str]:
    """A migrated database with the probe's table; dropped afterwards (PostgreSQL)."""
    base = os.environ.get("ALMACEN_TEST_DATABASE_URL", "")
    admin = None
    if base.startswith("postgresql"):
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        name = f"almacen_outbox_{os.getpid()}_{worker}_{uuid.uuid4().hex[:6]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'outbox.db'}"
    try:
        app = create_app(settings(url))
        gateway = gateway_of(app)
        migrate.upgrade(gateway.db.engine, gateway.registry.modules.values())
        with gateway.db.engine.begin() as connection:
            connection.execute(text(outbox_probe.TABLE_DDL))
        gateway.close()
        yield url
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def settings(url: str, **extra: Any) -> dict[str, Any]:
    """Settings of an app on the scratch database: no entry points, the probe, a worker."""
    return {
        "database_url": url,
        "load_entrypoints": False,
        "delivery": "worker",
        "delivery_poll_seconds": 0.1,
        **extra,
    }


def new_tenants(db: Database, count: int) -> list[str]:
    """``count`` new tenants; their ids."""
    ids = []
    with db.transaction() as session:
        for _ in range(count):
            slug = f"outbox-{uuid.uuid4().hex[:10]}"
            ids.append(service.create_tenant(session, slug=slug, name=slug).id)
    return ids


def emit_probes(
    db: Database, tenant_id: str, count: int, *, per_transaction: int = 100
) -> list[str]:
    """Emit ``count`` probe events for a tenant; their ids."""
    ids: list[str] = []
    for start in range(0, count, per_transaction):
        with db.transaction(tenant_id=tenant_id) as session:
            ids += [
                emit(session, outbox_probe.PROBED, {"n": n})
                for n in range(start, min(start + per_transaction, count))
            ]
    return ids


def received(db: Database, tenant_ids: Sequence[str]) -> list[str]:
    """Event ids in the probe's table for these tenants, duplicates kept."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT event_id, tenant_id FROM probe_received"),
        ).all()
    return [event_id for event_id, tenant in rows if tenant in set(tenant_ids)]


def statuses(db: Database, ids: Sequence[str]) -> dict[str, str]:
    """Event id → status."""
    wanted = set(ids)
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, status FROM events")).all()
    return {event_id: status for event_id, status in rows if event_id in wanted}


def worker_env(url: str, **variables: str) -> dict[str, str]:
    """The environment of an ``almacen worker`` subprocess on ``url`` with the probe."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALMACEN_")}
    env.update(
        ALMACEN_DATABASE_URL=url,
        ALMACEN_LOAD_ENTRYPOINTS="false",
        ALMACEN_EXTRA_PLUGINS=PROBE_PLUGIN,
        ALMACEN_DELIVERY="worker",
        ALMACEN_DELIVERY_POLL_SECONDS="0.1",
        ALMACEN_LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    env.update(variables)
    return env


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """Start ``almacen worker ARGS`` with ``env``; stdout and stderr are captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "almacen.gateway.cli", "worker", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
