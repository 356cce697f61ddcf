"""A payment whose transaction PostgreSQL aborts for a concurrent one (a deadlock victim, a
serialisation failure) is run again by the gateway and posted once; when every attempt is
aborted the client gets a 503 to retry, and nothing is written.

The aborts are real PostgreSQL errors, raised by a trigger this test puts on the payments
table for external ids starting ``retry-``: it aborts the first ``n`` inserts it sees (a
sequence counts them, and a sequence is not rolled back with the transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from almacen.gateway.app import gateway_of
from almacen.gateway.state import HANDLER_ATTEMPTS
from tests.common.actors import TenantHandle, assert_problem
from tests.common.ledger import BASE, journal, new_account, pay, summary

pytestmark = [pytest.mark.modules("ledger"), pytest.mark.postgres]

_FAULTS = """
CREATE SEQUENCE test_retry_inserts;
CREATE FUNCTION test_retry_abort() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF nextval('test_retry_inserts') <= {aborts} THEN
    RAISE EXCEPTION 'aborted by a test' USING ERRCODE = '{sqlstate}';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER test_retry_abort BEFORE INSERT ON ledger_payments FOR EACH ROW
  WHEN (NEW.external_id LIKE 'retry-%') EXECUTE FUNCTION test_retry_abort();
"""
_CLEAN = """
DROP TRIGGER IF EXISTS test_retry_abort ON ledger_payments;
DROP FUNCTION IF EXISTS test_retry_abort();
DROP SEQUENCE IF EXISTS test_retry_inserts;
"""


@pytest.fixture
def abort_inserts(app: Any, is_postgres: bool) -> Iterator[Callable[[int, str], None]]:
    """``abort_inserts(n, sqlstate)``: the next ``n`` payment inserts fail with ``sqlstate``."""
    if not is_postgres:
        pytest.skip("deadlocks and serialisation failures are PostgreSQL's")
    engine = gateway_of(app).db.engine

    def arm(aborts: int, sqlstate: str) -> None:
        with engine.begin() as connection:
            connection.execute(text(_FAULTS.format(aborts=aborts, sqlstate=sqlstate)))

    try:
        yield arm
    finally:
        with engine.begin() as connection:
            connection.execute(text(_CLEAN))


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_an_aborted_payment_is_run_again_and_posted_once(
    tenant: TenantHandle, abort_inserts: Callable[[int, str], None], sqlstate: str
) -> None:
    account = new_account(tenant)
    before = Decimal(summary(tenant, account["id"], "2026-03-01")["total"]["amount"])
    abort_inserts(HANDLER_ATTEMPTS - 1, sqlstate)

    response = pay(tenant, account["id"], "25.00", "2026-03-01", external_id="retry-once")
    assert response.status_code == 201, response.text
    after = Decimal(summary(tenant, account["id"], "2026-03-01")["total"]["amount"])
    assert before - after == Decimal("25.00")
    payments = [e for e in journal(tenant, account["id"]) if e["kind"] == "payment"]
    assert len(payments) == 1
    listed = tenant.get(f"{BASE}/accounts/{account['id']}/payments").json()["items"]
    assert [p["external_id"] for p in listed] == ["retry-once"]


def test_a_payment_aborted_on_every_attempt_is_a_503_that_wrote_nothing(
    tenant: TenantHandle, abort_inserts: Callable[[int, str], None]
) -> None:
    account = new_account(tenant)
    entries = journal(tenant, account["id"])
    abort_inserts(HANDLER_ATTEMPTS, "40P01")

    response = pay(tenant, account["id"], "25.00", "2026-03-01", external_id="retry-never")
    problem = assert_problem(response, 503)
    assert "retry" in problem["detail"]
    assert response.headers["Retry-After"] == "1"
    assert journal(tenant, account["id"]) == entries
    assert tenant.get(f"{BASE}/accounts/{account['id']}/payments").json()["items"] == []
    # The client's retry, once the collisions are over, posts it.
    again = pay(tenant, account["id"], "25.00", "2026-03-01", external_id="retry-never")
    assert again.status_code == 201, again.text
