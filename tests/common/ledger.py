"""Helpers for ledger tests through HTTP: make debtors and accounts with few words."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from tests.common.actors import TenantHandle
from tests.common.sessions import RolledBack, rolled_back

BASE = "/v1/ledger"


def money(amount: str, currency: str = "COP") -> dict[str, str]:
    """Money as the wire carries it."""
    return {"amount": amount, "currency": currency}


def new_debtor(tenant: TenantHandle, **fields: Any) -> dict[str, Any]:
    """Create a debtor, asserting success."""
    body = {"external_ref": f"d-{uuid.uuid4().hex[:12]}", "name": "Ana Gómez", **fields}
    response = tenant.post(f"{BASE}/debtors", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def account_body(debtor_id: str, **fields: Any) -> dict[str, Any]:
    """A valid account-opening body: 1,000.00 COP at 12 % over 12 months (DOMAIN.md)."""
    return {
        "debtor_id": debtor_id,
        "external_ref": f"a-{uuid.uuid4().hex[:12]}",
        "product_type": "personal_loan",
        "principal": money("1000.00"),
        "annual_rate": "0.12",
        "originated_on": "2026-01-15",
        "schedule": {"generate": {"count": 12, "first_due": "2026-02-15"}},
        **fields,
    }


def new_account(
    tenant: TenantHandle, debtor_id: str | None = None, **fields: Any
) -> dict[str, Any]:
    """Open an account (for a new debtor unless one is given), asserting success."""
    debtor_id = debtor_id or new_debtor(tenant)["id"]
    response = tenant.post(f"{BASE}/accounts", json=account_body(debtor_id, **fields))
    assert response.status_code == 201, response.text
    return dict(response.json())


def pay(tenant: TenantHandle, account_id: str, amount: str, received_on: str, **fields: Any) -> Any:
    """Post a payment; the response is returned unchecked."""
    body = {
        "external_id": f"p-{uuid.uuid4().hex[:12]}",
        "amount": money(amount, fields.pop("currency", "COP")),
        "received_on": received_on,
        **fields,
    }
    return tenant.post(f"{BASE}/accounts/{account_id}/payments", json=body)


def summary(tenant: TenantHandle, account_id: str, as_of: str | None = None) -> dict[str, Any]:
    """An account's balances as of a date, asserting success."""
    params = {"as_of": as_of} if as_of else {}
    response = tenant.get(f"{BASE}/accounts/{account_id}", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def journal(tenant: TenantHandle, account_id: str) -> list[dict[str, Any]]:
    """Every journal entry of an account."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 500}
    while True:
        response = tenant.get(f"{BASE}/accounts/{account_id}/journal", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if page["next"] is None:
            return items
        params["cursor"] = page["next"]


# -- unit tests: tenants' sessions on one rolled-back connection ---------------------------


class LedgerWorld(RolledBack):
    """Rolled-back sessions, and tenants subscribed to the ledger."""

    def __init__(self, connection: Any, *, app: Any) -> None:
        super().__init__(connection)
        self.app = app

    def new_tenant(self, **config: Any) -> Any:
        """A tenant subscribed to the ledger with ``config``; its session."""
        from almacen.gateway.app import gateway_of
        from almacen.gateway.tenancy.service import create_tenant, subscribe

        operator = self.open_session(None)
        tenant = create_tenant(operator, slug=f"led-{uuid.uuid4().hex[:12]}", name="Ledger test")
        operator.flush()
        session = self.open_session(tenant.id)
        subscribe(session, module=gateway_of(self.app).registry.modules["ledger"], config=config)
        return session


@contextlib.contextmanager
def ledger_world(app: Any) -> Iterator[LedgerWorld]:
    """A :class:`LedgerWorld` whose writes are all rolled back when the block ends."""
    with rolled_back(app, LedgerWorld, app=app) as world:
        yield world
