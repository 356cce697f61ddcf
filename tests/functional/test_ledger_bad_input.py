"""Bad input to payment reversals and adjustments, through HTTP: each is refused with a
problem (``application/problem+json``) that names what is wrong, and writes nothing: the
account's journal, summary and payments read the same before and after.

The account is the helpers' default (1,000.00 COP at 12 % over 12 months, originated
2026-01-15, first due 2026-02-15), with a payment of 120.00 received 2026-03-20.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.common.actors import TenantHandle, assert_problem
from tests.common.ledger import BASE, journal, money, new_account, pay, summary

pytestmark = pytest.mark.modules("ledger")

#: After the server's today in every time zone: it takes the latest date on Earth (UTC+14),
#: at most one day after UTC's.
FUTURE = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).date().isoformat()
RECEIVED_ON = "2026-03-20"


def _paid_account(tenant: TenantHandle) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new account and a payment of 120.00 on it."""
    account = new_account(tenant)
    response = pay(tenant, account["id"], "120.00", RECEIVED_ON)
    assert response.status_code == 201, response.text
    return account, dict(response.json())


def _state(tenant: TenantHandle, account_id: str) -> dict[str, Any]:
    """Everything the tenant can read of the account that a write could change."""
    payments = tenant.get(f"{BASE}/accounts/{account_id}/payments")
    assert payments.status_code == 200, payments.text
    return {
        "journal": journal(tenant, account_id),
        "summary": summary(tenant, account_id),
        "summary at the end": summary(tenant, account_id, "2027-12-31"),
        "payments": payments.json()["items"],
    }


def _reverse(tenant: TenantHandle, payment_id: str, effective_on: str) -> Any:
    return tenant.post(
        f"{BASE}/payments/{payment_id}/reversal", json={"effective_on": effective_on}
    )


def _pointers(body: dict[str, Any]) -> list[str]:
    return [error.get("pointer", "") for error in body.get("errors", [])]


# -- reversals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective_on", "detail"),
    [
        (FUTURE, "must not be in the future"),
        ("2026-03-19", "must not be before the payment was received"),
    ],
    ids=["in the future", "before the payment was received"],
)
def test_a_reversal_dated_out_of_range_is_refused_and_writes_nothing(
    tenant: TenantHandle, effective_on: str, detail: str
) -> None:
    account, payment = _paid_account(tenant)
    before = _state(tenant, account["id"])
    body = assert_problem(_reverse(tenant, payment["id"], effective_on), 422, slug="unprocessable")
    assert body["errors"] == [{"pointer": "/effective_on", "detail": detail}], body
    assert _state(tenant, account["id"]) == before
    # The date alone was wrong: the day the payment was received is a valid reversal date.
    response = _reverse(tenant, payment["id"], RECEIVED_ON)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "reversed"


def test_reversing_a_reversed_payment_is_a_conflict_and_writes_nothing(
    tenant: TenantHandle,
) -> None:
    account, payment = _paid_account(tenant)
    assert _reverse(tenant, payment["id"], "2026-03-21").status_code == 201
    before = _state(tenant, account["id"])
    assert [e["kind"] for e in before["journal"]].count("reversal") == 1
    # Again, the same request or another date: the payment is what is wrong, not a field.
    for effective_on in ("2026-03-21", "2026-03-25"):
        body = assert_problem(_reverse(tenant, payment["id"], effective_on), 409, slug="conflict")
        assert body["detail"] == f"payment {payment['id']} is already reversed", body
        assert _pointers(body) == []
    assert _state(tenant, account["id"]) == before


def test_reversing_another_tenants_payment_is_not_found_and_writes_nothing(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    account, payment = _paid_account(tenant)
    before = _state(tenant, account["id"])
    body = assert_problem(_reverse(other_tenant, payment["id"], "2026-03-21"), 404)
    assert body["type"].endswith("/not-found"), body
    # Said exactly as for an id no tenant has: nothing tells that it exists elsewhere.
    assert body["detail"] == f"no payment {payment['id']}", body
    assert _pointers(body) == []
    assert _state(tenant, account["id"]) == before
    assert before["payments"][0]["status"] == "posted"
    assert other_tenant.get(f"{BASE}/accounts").json()["items"] == []
    # Its owner still can.
    assert _reverse(tenant, payment["id"], "2026-03-21").status_code == 201


# -- adjustments ---------------------------------------------------------------------------

#: A valid adjustment of each direction: one that charges, one that forgives.
ADJUSTMENTS = {
    "fee": {
        "kind": "fee",
        "component": "fees",
        "amount": money("5.00"),
        "effective_on": "2026-03-01",
    },
    "discount": {
        "kind": "discount",
        "component": "principal",
        "amount": money("5.00"),
        "effective_on": "2026-03-01",
    },
}


@pytest.mark.parametrize("kind", sorted(ADJUSTMENTS))
@pytest.mark.parametrize(
    ("change", "status", "slug", "pointer"),
    [
        ({"effective_on": FUTURE}, 422, "unprocessable", "/effective_on"),
        ({"amount": money("5.00", "USD")}, 422, "unprocessable", "/amount/currency"),
        ({"amount": {"amount": 5.0, "currency": "COP"}}, 400, "validation-error", "/amount/amount"),
        ({"amount": {"amount": 5, "currency": "COP"}}, 400, "validation-error", "/amount/amount"),
    ],
    ids=["dated in the future", "in another currency", "amount a float", "amount an integer"],
)
def test_a_bad_adjustment_is_refused_and_writes_nothing(
    tenant: TenantHandle, kind: str, change: dict[str, Any], status: int, slug: str, pointer: str
) -> None:
    account, _ = _paid_account(tenant)
    path = f"{BASE}/accounts/{account['id']}/adjustments"
    before = _state(tenant, account["id"])
    body = assert_problem(
        tenant.post(path, json={**ADJUSTMENTS[kind], **change}), status, slug=slug
    )
    assert _pointers(body) == [pointer], body
    assert _state(tenant, account["id"]) == before
    # That field alone was wrong: the adjustment as it should be is taken.
    response = tenant.post(path, json=ADJUSTMENTS[kind])
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == kind
