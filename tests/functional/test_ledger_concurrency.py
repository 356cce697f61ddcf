"""Concurrent payments to one account through a real HTTP server lose nothing (PostgreSQL).

16 clients post 50 payments of 1.00 each at once. Every payment locks the account row
before reading what is owed, so the allocations never overlap: the principal ends exactly
800.00 lower and the journal holds exactly 800 payment entries.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest
import uvicorn

from tests.common.actors import TenantHandle
from tests.common.ledger import BASE, journal, money, new_account, summary

pytestmark = [pytest.mark.modules("ledger"), pytest.mark.postgres]

CLIENTS = 16
PAYMENTS = 50


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(make_app: Callable[..., Any], is_postgres: bool) -> Iterator[str]:
    """An app served by uvicorn on 127.0.0.1, in a thread; yields its base URL.

    Responses are not validated against the spec here (the other tests do that): the
    point is many transactions at once, not the time spent checking each answer.
    """
    if not is_postgres:
        pytest.skip("row locks and concurrent transactions need PostgreSQL")
    app = make_app(validate_responses=False)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not served.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        thread.join(timeout=20)


def test_sixteen_clients_fifty_payments_each(server: str, tenant: TenantHandle) -> None:
    account = new_account(
        tenant,
        annual_rate="0",
        schedule={"generate": {"count": 10, "first_due": "2026-02-15"}},
    )
    path = f"{server}{BASE}/accounts/{account['id']}/payments"

    def client(number: int) -> list[int]:
        statuses = []
        with httpx.Client(headers=tenant.headers, timeout=60) as http:
            for _ in range(PAYMENTS):
                body = {
                    "external_id": f"c{number}-{uuid.uuid4().hex}",
                    "amount": money("1.00"),
                    "received_on": "2026-03-01",
                }
                statuses.append(http.post(path, json=body).status_code)
        return statuses

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(client, range(CLIENTS)))
    assert [s for statuses in results for s in statuses] == [201] * CLIENTS * PAYMENTS

    state = summary(tenant, account["id"], "2026-03-01")
    assert state["balances"]["principal"] == money("200.00")
    assert state["credit"] == money("0.00")
    entries = journal(tenant, account["id"])
    payments = [e for e in entries if e["kind"] == "payment"]
    assert len(payments) == CLIENTS * PAYMENTS
    # Oldest instalment first: instalments 1-8 (100.00 each) paid, 9 and 10 untouched.
    paid: dict[str, Decimal] = {}
    for entry in payments:
        for posting in entry["postings"]:
            if posting["book"] == "receivable:principal":
                key = posting["instalment_id"]
                paid[key] = paid.get(key, Decimal(0)) - Decimal(posting["amount"]["amount"])
    assert sorted(paid.values()) == [Decimal("100.00")] * 8
