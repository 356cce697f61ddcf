"""Sessions on one connection whose transaction is rolled back when the test ends.

Each session joins through a savepoint of its own, opened when the session is made, so that
savepoints nest in creation order and closing the sessions newest first unwinds them. Every
session is scoped to a tenant (or to none) exactly as a request's is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from almacen.gateway.app import gateway_of


class RolledBack:
    """Opens tenant-scoped sessions on one connection; nothing they write is kept."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.sessions: list[Session] = []

    def open_session(self, tenant_id: str | None) -> Session:
        """A session on the shared connection, scoped to ``tenant_id`` (or to none)."""
        session = Session(
            bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        session.info["tenant_id"] = tenant_id
        session.connection()  # open the savepoint now, so savepoints nest in creation order
        self.sessions.append(session)
        return session

    def close(self) -> None:
        """Close the sessions, newest first (each holds a savepoint of the ones before)."""
        for session in reversed(self.sessions):
            session.close()


@contextlib.contextmanager
def rolled_back(app: Any, world: type[RolledBack] = RolledBack, /, **kwargs: Any) -> Iterator[Any]:
    """A ``world`` on a connection of ``app`` whose transaction is rolled back at the end."""
    with gateway_of(app).db.engine.connect() as connection:
        transaction = connection.begin()
        opened = world(connection, **kwargs)
        try:
            yield opened
        finally:
            opened.close()
            transaction.rollback()
