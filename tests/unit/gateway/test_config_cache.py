"""The per-worker cache of tenants' module configurations (``tenancy.configcache``).

Two :class:`Database` objects on one database stand for two gunicorn workers, each with its
cache; a fake clock stands for the seconds that pass. What a worker sees is checked against
what was written, never against another read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from marshmallow import Schema, fields
from sqlalchemy import event

from almacen.gateway.db import Database
from almacen.gateway.module import Module
from almacen.gateway.tenancy import configcache, service
from almacen.gateway.tenancy.configcache import ConfigCache

TTL = 2.0


class GreetingConfig(Schema):
    """A module configuration with a default and a nested list."""

    greeting = fields.String(load_default="hello")
    channels = fields.List(fields.String(), load_default=lambda: ["sms"])


MODULE = Module(
    name="cachetest",
    version="1",
    title="cache test",
    # Never mounted: any OpenAPI file will do.
    spec=Path(__file__).parents[2] / "plugins" / "contract_module" / "openapi.yaml",
    api="unused",
    config_schema=GreetingConfig,
)


class Clock:
    """time.monotonic for the cache, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(configcache.time, "monotonic", fake)
    return fake


def _worker(url: str) -> Database:
    db = Database(url)
    db.info[service.CONFIG_CACHE] = ConfigCache(TTL)
    return db


@pytest.fixture
def workers(database_url: str, migrated: None) -> Iterator[tuple[Database, Database]]:
    first, second = _worker(database_url), _worker(database_url)
    yield first, second
    first.dispose()
    second.dispose()


def _tenant(db: Database, config: dict[str, Any] | None) -> str:
    with db.transaction() as session:
        tenant_id = service.create_tenant(
            session, slug=f"cache-{uuid.uuid4().hex[:12]}", name="cache"
        ).id
    if config is not None:
        with db.transaction(tenant_id=tenant_id) as session:
            service.subscribe(session, module=MODULE, config=config)
    return tenant_id


def _read(db: Database, tenant_id: str) -> dict[str, Any]:
    with db.transaction(tenant_id=tenant_id) as session:
        return service.module_config(session, MODULE.name, GreetingConfig)


def _count_queries(db: Database) -> list[str]:
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_each_tenant_gets_its_own_configuration(
    workers: tuple[Database, Database], clock: Clock
) -> None:
    db, _ = workers
    hola = _tenant(db, {"greeting": "hola"})
    oi = _tenant(db, {"greeting": "oi", "channels": ["email"]})
    plain = _tenant(db, None)
    for _ in range(2):  # the second round is served from the cache
        assert _read(db, hola) == {"greeting": "hola", "channels": ["sms"]}
        assert _read(db, oi) == {"greeting": "oi", "channels": ["email"]}
        assert _read(db, plain) == {"greeting": "hello", "channels": ["sms"]}


def test_a_cached_read_does_not_query(workers: tuple[Database, Database], clock: Clock) -> None:
    db, _ = workers
    tenant_id = _tenant(db, {"greeting": "hola"})
    _read(db, tenant_id)
    queries = _count_queries(db)
    assert _read(db, tenant_id)["greeting"] == "hola"
    assert not [q for q in queries if "subscriptions" in q]


def test_a_change_through_this_worker_is_seen_at_once(
    workers: tuple[Database, Database], clock: Clock
) -> None:
    db, _ = workers
    tenant_id = _tenant(db, {"greeting": "hola"})
    assert _read(db, tenant_id)["greeting"] == "hola"
    with db.transaction(tenant_id=tenant_id) as session:
        service.subscribe(session, module=MODULE, config={"greeting": "buenas"})
    assert _read(db, tenant_id)["greeting"] == "buenas"
    with db.transaction(tenant_id=tenant_id) as session:
        service.unsubscribe(session, MODULE.name)
    assert _read(db, tenant_id)["greeting"] == "hello"


def test_a_change_through_another_worker_is_seen_within_the_ttl(
    workers: tuple[Database, Database], clock: Clock
) -> None:
    first, second = workers
    tenant_id = _tenant(first, {"greeting": "hola"})
    assert _read(first, tenant_id)["greeting"] == "hola"
    with second.transaction(tenant_id=tenant_id) as session:
        service.subscribe(session, module=MODULE, config={"greeting": "buenas"})
    clock.now += TTL  # the bound: no later than TTL seconds after it was cached
    assert _read(first, tenant_id)["greeting"] == "buenas"
    with second.transaction(tenant_id=tenant_id) as session:
        service.unsubscribe(session, MODULE.name)
    clock.now += TTL
    assert _read(first, tenant_id) == {"greeting": "hello", "channels": ["sms"]}


def test_the_changing_session_reads_its_own_write_and_a_rollback_leaves_the_old(
    workers: tuple[Database, Database], clock: Clock
) -> None:
    db, _ = workers
    tenant_id = _tenant(db, {"greeting": "hola"})
    assert _read(db, tenant_id)["greeting"] == "hola"
    session = db.session(tenant_id=tenant_id)
    with session.begin():
        service.subscribe(session, module=MODULE, config={"greeting": "buenas"})
        assert service.module_config(session, MODULE.name, GreetingConfig)["greeting"] == "buenas"
        session.rollback()
    session.close()
    assert _read(db, tenant_id)["greeting"] == "hola"


def test_changing_a_returned_configuration_changes_no_other(
    workers: tuple[Database, Database], clock: Clock
) -> None:
    db, _ = workers
    tenant_id = _tenant(db, {"greeting": "hola"})
    mine = _read(db, tenant_id)
    mine["channels"].append("carrier pigeon")
    mine["greeting"] = "changed"
    assert _read(db, tenant_id) == {"greeting": "hola", "channels": ["sms"]}
    again = _read(db, tenant_id)
    again["channels"].clear()
    assert _read(db, tenant_id) == {"greeting": "hola", "channels": ["sms"]}


def test_a_session_switching_tenants_reads_each_tenants_own(
    workers: tuple[Database, Database], clock: Clock
) -> None:
    # The event dispatcher reuses one session for several tenants' events.
    db, _ = workers
    hola = _tenant(db, {"greeting": "hola"})
    oi = _tenant(db, {"greeting": "oi"})
    with db.transaction(tenant_id=hola) as session:
        for tenant_id, expected in ((hola, "hola"), (oi, "oi"), (hola, "hola"), (oi, "oi")):
            session.info["tenant_id"] = tenant_id
            got = service.module_config(session, MODULE.name, GreetingConfig)
            assert got["greeting"] == expected


def test_without_a_cache_or_with_ttl_zero_every_read_queries(
    database_url: str, migrated: None, clock: Clock
) -> None:
    plain, off = Database(database_url), _worker(database_url)
    off.info[service.CONFIG_CACHE] = ConfigCache(0)
    try:
        tenant_id = _tenant(plain, {"greeting": "hola"})
        for db in (plain, off):
            _read(db, tenant_id)
            queries = _count_queries(db)
            assert _read(db, tenant_id)["greeting"] == "hola"
            assert [q for q in queries if "subscriptions" in q]
    finally:
        plain.dispose()
        off.dispose()
