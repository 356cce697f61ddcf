"""The ledger's unit-test world: a new tenant's session inside a transaction rolled back at
the end of each test. Rows to put in it: ``tests/common/ledger_rows.py``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from almacen.gateway.app import gateway_of
from almacen.gateway.tenancy.service import create_tenant


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
def new_tenant(connection: Connection) -> Iterator[Callable[[], Session]]:
    """Make a tenant; return its scoped session on the test's connection."""
    sessions: list[Session] = []

    def open_session(tenant_id: str | None) -> Session:
        session = Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        session.info["tenant_id"] = tenant_id
        # Open the savepoint now, so that savepoints nest in the order sessions are made
        # and closing them in reverse order unwinds them.
        session.connection()
        sessions.append(session)
        return session

    def make() -> Session:
        operator = open_session(None)
        tenant = create_tenant(operator, slug=f"unit-{uuid.uuid4().hex[:10]}", name="unit")
        operator.flush()
        return open_session(tenant.id)

    yield make
    for session in reversed(sessions):
        session.close()


@pytest.fixture
def session(new_tenant: Callable[[], Session]) -> Session:
    """The session of a new tenant."""
    return new_tenant()
