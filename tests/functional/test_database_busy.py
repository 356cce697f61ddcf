"""SQLite allows one writer: a write that waits too long is a 503 "retry", not a 500."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import pytest

from tests.common.actors import Admin, assert_problem


def test_locked_sqlite_database_is_a_503_with_retry_after(
    make_app: Any, database_url: str, is_postgres: bool
) -> None:
    if is_postgres:
        pytest.skip("SQLite's single-writer lock")
    slug = f"busy-{uuid.uuid4().hex[:10]}"
    app = make_app()
    admin = Admin(app.test_client(), "test-admin-token-0123456789abcdef")
    # Another process holds the write lock; our connections wait 30 s by default, so
    # shorten that for this app's engine only.
    from sqlalchemy import event

    from almacen.gateway.app import gateway_of

    engine = gateway_of(app).db.engine
    event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA busy_timeout=200"))
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = admin.request("POST", "/v1/tenants", json={"slug": slug, "name": "x"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    body = assert_problem(response, 503)
    assert response.headers["Retry-After"] == "5"
    assert "busy" in body["detail"]
    # Nothing was written: the same request now succeeds (no duplicate slug).
    retry = admin.request("POST", "/v1/tenants", json={"slug": slug, "name": "x"})
    assert retry.status_code == 201
