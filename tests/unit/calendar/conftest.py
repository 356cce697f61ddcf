"""Fixtures of the calendar's unit tests: tenants' sessions inside one rolled-back transaction.

Every session of a test shares one connection whose transaction is rolled back at the end,
so nothing a test writes outlives it; each session is scoped to its tenant like a request's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from almacen.gateway.app import gateway_of
from almacen.gateway.tenancy.service import create_tenant, subscribe


@pytest.fixture
def connection(app: Any) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back when the test ends."""
    with gateway_of(app).db.engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def open_session(connection: Connection) -> Iterator[Callable[[str | None], Session]]:
    """Open a session on the test's connection, scoped to a tenant (or to none)."""
    sessions: list[Session] = []

    def factory(tenant_id: str | None) -> Session:
        session = Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        session.info["tenant_id"] = tenant_id
        sessions.append(session)
        return session

    yield factory
    # Each session holds a savepoint opened after those of the sessions before it.
    for session in reversed(sessions):
        session.close()


@pytest.fixture
def new_tenant(
    app: Any, open_session: Callable[[str | None], Session], unique: Callable[[str], str]
) -> Callable[..., Session]:
    """Make a tenant subscribed to the calendar with ``config``; return its session."""
    module = gateway_of(app).registry.modules["calendar"]

    def make(*, subscribed: bool = True, **config: Any) -> Session:
        operator = open_session(None)
        tenant = create_tenant(operator, slug=unique("cal"), name="Calendar unit test")
        operator.flush()
        session = open_session(tenant.id)
        if subscribed:
            subscribe(session, module=module, config=config)
        return session

    return make


@pytest.fixture
def session(new_tenant: Callable[..., Session]) -> Session:
    """The session of a tenant subscribed to the calendar with the default configuration."""
    return new_tenant()
