"""Pooled PostgreSQL connections are pinged only after sitting idle (``db.make_engine``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from almacen.gateway import db as dbmodule


@pytest.fixture
def engine(database_url: str, is_postgres: bool) -> Iterator[Engine]:
    if not is_postgres:
        pytest.skip("SQLite connections are not pooled")
    made = dbmodule.make_engine(database_url, pool_size=1, max_overflow=0)
    yield made
    made.dispose()


def _kill_pooled_connection(engine: Engine, database_url: str) -> None:
    """Terminate, from another connection, the backend of the one connection in the pool."""
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    other = dbmodule.make_engine(database_url, poolclass=NullPool)
    try:
        with other.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            connection.commit()
    finally:
        other.dispose()


def _pings(engine: Engine) -> list[str]:
    seen: list[str] = []
    original = engine.dialect.do_ping

    def counting(dbapi_connection: object) -> bool:
        seen.append("ping")
        return original(dbapi_connection)

    engine.dialect.do_ping = counting  # type: ignore[method-assign]
    return seen


def test_a_connection_idle_past_the_window_is_pinged_and_replaced(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kill_pooled_connection(engine, database_url)
    monkeypatch.setattr(dbmodule, "PING_AFTER_IDLE_SECONDS", 0.0)
    pings = _pings(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 41 + 1")).scalar_one() == 42
    assert pings, "the idle connection was not pinged"


def test_a_recently_used_connection_is_not_pinged(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dbmodule, "PING_AFTER_IDLE_SECONDS", 3600.0)
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    pings = _pings(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 41 + 1")).scalar_one() == 42
    assert pings == []
    # So a connection dropped within the window fails once (and the pool is invalidated).
    _kill_pooled_connection(engine, database_url)
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 41 + 1")).scalar_one() == 42


def test_a_worker_s_threads_reuse_pooled_connections(database_url: str, is_postgres: bool) -> None:
    """As many sessions at once as a gateway worker runs Flask threads (a2wsgi's 10) reuse
    the pool's connections rather than open and close one each time (the default pool of 5
    made most requests connect anew)."""
    if not is_postgres:
        pytest.skip("SQLite connections are not pooled")
    engine = dbmodule.make_engine(database_url)
    try:
        backends: list[set[int]] = []
        for _ in range(3):
            connections = [engine.connect() for _ in range(10)]
            backends.append(
                {c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in connections}
            )
            for connection in connections:
                connection.close()
        assert len(backends[0]) == 10
        assert backends[0] == backends[1] == backends[2]
    finally:
        engine.dispose()
