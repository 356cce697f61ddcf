"""Ledger payments, promises and the aging job through HTTP.

The small worked example used below, computed by hand: 300.00 COP at 12 % a year over three
months (r = 1 % a month), originated 2026-01-15, first due 2026-02-15, opening fee 10.00.
Instalment A = 300 × 0.01 / (1 − 1.01⁻³) = 102.0066… → 102.01.

  no.  due         interest                    principal
  1    2026-02-15  300.00 × 1 % = 3.00         102.01 − 3.00 = 99.01   (left 200.99)
  2    2026-03-15  200.99 × 1 % = 2.0099→2.01  102.01 − 2.01 = 100.00  (left 100.99)
  3    2026-04-15  100.99 × 1 % = 1.0099→1.01  the remainder  = 100.99

A payment of 120.00 received 2026-03-20 (instalments 1 and 2 due) pays, oldest instalment
first and fees → interest → principal within it: 10.00 fee, 3.00 and 99.01 of instalment 1
(7.99 left), then 2.01 interest and 5.98 principal of instalment 2. Owed afterwards:
94.02 + 100.99 = 195.01 of principal, nothing else (instalment 3's interest is not due yet).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.common.actors import Admin, TenantHandle, assert_problem
from tests.common.ledger import BASE, journal, money, new_account, pay, summary

pytestmark = pytest.mark.modules("ledger")

SMALL = {
    "principal": money("300.00"),
    "fees": money("10.00"),
    "schedule": {"generate": {"count": 3, "first_due": "2026-02-15"}},
}


def payments_of(tenant: TenantHandle, account_id: str) -> list[dict[str, Any]]:
    response = tenant.get(f"{BASE}/accounts/{account_id}/payments")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_waterfall_fees_interest_principal_oldest_first(tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    response = pay(tenant, account["id"], "120.00", "2026-03-20", channel="pse")
    assert response.status_code == 201, response.text
    payment = response.json()
    assert payment["status"] == "posted"
    assert [
        (a["number"], a["component"], a["amount"]["amount"]) for a in payment["allocations"]
    ] == [
        (1, "fees", "10.00"),
        (1, "interest", "3.00"),
        (1, "principal", "99.01"),
        (2, "interest", "2.01"),
        (2, "principal", "5.98"),
    ]
    assert payment["credit"] == money("0.00")
    state = summary(tenant, account["id"], "2026-03-20")
    assert state["balances"] == {
        "fees": money("0.00"),
        "penalties": money("0.00"),
        "interest": money("0.00"),
        "principal": money("195.01"),
    }
    assert state["total"] == money("195.01")
    assert state["days_past_due"] == 5  # instalment 2, due 15 March, is still owed
    schedule = tenant.get(
        f"{BASE}/accounts/{account['id']}/schedule", params={"as_of": "2026-03-20"}
    ).json()["items"]
    assert schedule[1]["paid"]["principal"] == money("5.98")
    assert schedule[1]["outstanding"]["principal"] == money("94.02")
    assert schedule[2]["due"]["interest"] == money("0.00")
    # Before the payment's date the balance is as it was.
    assert summary(tenant, account["id"], "2026-03-19")["total"] == money("315.01")


def test_overpayment_becomes_credit_never_a_negative_receivable(tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    assert pay(tenant, account["id"], "120.00", "2026-03-20").status_code == 201
    # 195.01 is owed on 21 March; 500.00 leaves 304.99 of credit.
    response = pay(tenant, account["id"], "500.00", "2026-03-21")
    assert response.status_code == 201, response.text
    assert response.json()["credit"] == money("304.99")
    state = summary(tenant, account["id"], "2026-03-21")
    assert state["total"] == money("0.00")
    assert state["credit"] == money("304.99")
    assert all(Decimal(v["amount"]) >= 0 for v in state["balances"].values())
    # Paid off early: instalment 3's 1.01 of interest, not yet due, is cancelled and the
    # account is settled with its credit (to refund); nothing falls due later.
    later = summary(tenant, account["id"], "2026-04-15")
    assert later["balances"]["interest"] == money("0.00")
    assert (later["total"], later["credit"]) == (money("0.00"), money("304.99"))
    assert later["account"]["status"] == "settled"
    [settled] = events(tenant, "ledger.account_settled")
    assert settled["payload"]["credit"] == money("304.99")
    assert settled["payload"]["settled_on"] == "2026-03-21"
    # A payment that leaves something owed does not settle.
    other = new_account(tenant, **SMALL)
    assert pay(tenant, other["id"], "195.00", "2026-03-21").status_code == 201
    assert summary(tenant, other["id"])["account"]["status"] == "open"


def test_idempotent_replay_and_conflict(tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    body = {
        "external_id": f"bank-{uuid.uuid4().hex}",
        "amount": money("50.00"),
        "received_on": "2026-03-01",
    }
    path = f"{BASE}/accounts/{account['id']}/payments"
    first = tenant.post(path, json=body)
    assert first.status_code == 201, first.text
    again = tenant.post(path, json=body)
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    changed = tenant.post(path, json={**body, "amount": money("50.01")})
    assert_problem(changed, 409, slug="conflict")
    assert len(payments_of(tenant, account["id"])) == 1
    assert [e["kind"] for e in journal(tenant, account["id"])].count("payment") == 1


@pytest.mark.parametrize(
    ("amount", "received_on", "status", "pointer"),
    [
        ({"amount": 50.0, "currency": "COP"}, "2026-03-01", 400, "/amount/amount"),
        ({"amount": 50, "currency": "COP"}, "2026-03-01", 400, "/amount/amount"),
        (money("50.00", "ABC"), "2026-03-01", 422, "/amount"),
        (money("50.00", "USD"), "2026-03-01", 422, "/amount/currency"),
        (money("0.00"), "2026-03-01", 422, "/amount/amount"),
        (money("-5.00"), "2026-03-01", 422, "/amount/amount"),
        (money("5.001"), "2026-03-01", 422, "/amount"),
        (money("50.00"), "2999-01-01", 422, "/received_on"),
        (money("50.00"), "2026-01-01", 422, "/received_on"),  # before origination
        (money("50.00"), "2026-13-01", 400, "/received_on"),
    ],
)
def test_bad_payments_write_nothing(
    tenant: TenantHandle, amount: Any, received_on: str, status: int, pointer: str
) -> None:
    account = new_account(tenant, **SMALL)
    response = tenant.post(
        f"{BASE}/accounts/{account['id']}/payments",
        json={"external_id": "bad-1", "amount": amount, "received_on": received_on},
    )
    body = assert_problem(response, status)
    assert pointer in [e.get("pointer") for e in body.get("errors", [])], body
    assert payments_of(tenant, account["id"]) == []
    assert "payment" not in [e["kind"] for e in journal(tenant, account["id"])]


def test_payment_to_another_tenants_account_is_404_and_writes_nothing(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    account = new_account(tenant, **SMALL)
    response = pay(other_tenant, account["id"], "50.00", "2026-03-01")
    assert_problem(response, 404, slug="not-found")
    assert payments_of(tenant, account["id"]) == []
    assert summary(tenant, account["id"], "2026-03-01")["total"] == money("313.00")
    # The external id stays free for its owner.
    mine = pay(tenant, account["id"], "50.00", "2026-03-01")
    assert mine.status_code == 201


def test_reversal_restores_the_balance_once(tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    payment = pay(tenant, account["id"], "120.00", "2026-03-20").json()
    path = f"{BASE}/payments/{payment['id']}/reversal"
    response = tenant.post(path, json={"effective_on": "2026-03-22", "memo": "bounced"})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "reversed"
    assert summary(tenant, account["id"], "2026-03-22")["total"] == money("315.01")
    assert summary(tenant, account["id"], "2026-03-21")["total"] == money("195.01")
    assert_problem(tenant.post(path, json={"effective_on": "2026-03-22"}), 409)
    entries = journal(tenant, account["id"])
    reversal = next(e for e in entries if e["kind"] == "reversal")
    assert reversal["reverses_id"] == payment["entry_id"]
    assert [e["payload"]["payment_id"] for e in events(tenant, "ledger.payment_reversed")] == [
        payment["id"]
    ]
    assert_problem(
        tenant.post(f"{BASE}/payments/{'0' * 32}/reversal", json={"effective_on": "2026-03-22"}),
        404,
    )


def events(tenant: TenantHandle, type: str) -> list[dict[str, Any]]:
    """The tenant's events of one type, oldest first."""
    response = tenant.get("/v1/events", params={"type": type, "limit": 500})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_payments_and_reversals_are_walled_between_tenants(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    account = new_account(tenant, **SMALL)
    payment = pay(tenant, account["id"], "20.00", "2026-03-01").json()
    reversal = other_tenant.post(
        f"{BASE}/payments/{payment['id']}/reversal", json={"effective_on": "2026-03-02"}
    )
    assert_problem(reversal, 404)
    assert payments_of(tenant, account["id"])[0]["status"] == "posted"
    assert_problem(other_tenant.get(f"{BASE}/accounts/{account['id']}/payments"), 404)


# -- promises and the aging job ------------------------------------------------------------


def test_promise_kept_by_a_payment_and_broken_by_the_job(tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    path = f"{BASE}/accounts/{account['id']}/promises"
    response = tenant.post(
        path, json={"amount": money("100.00"), "due_on": "2999-01-01", "channel": "whatsapp"}
    )
    assert response.status_code == 201, response.text
    promise = response.json()
    assert (promise["status"], promise["paid"]) == ("pending", money("0.00"))
    # A payment received the day the promise was made counts toward it.
    assert pay(tenant, account["id"], "60.00", promise["created_on"]).status_code == 201
    assert tenant.get(path).json()["items"][0]["paid"] == money("60.00")
    assert pay(tenant, account["id"], "40.00", promise["created_on"]).status_code == 201
    kept = tenant.get(path).json()["items"][0]
    assert (kept["status"], kept["paid"]) == ("kept", money("100.00"))
    assert kept["resolved_at"] is not None
    # A promise nobody pays is broken once its due date and 3 grace days have passed.
    other = new_account(tenant, **SMALL)
    broken = tenant.post(
        f"{BASE}/accounts/{other['id']}/promises",
        json={"amount": money("50.00"), "due_on": "2999-01-01"},
    ).json()
    job = tenant.post(f"{BASE}/jobs/aging", json={"as_of": "2999-01-04"}).json()
    assert job["promises"] == {}
    job = tenant.post(f"{BASE}/jobs/aging", json={"as_of": "2999-01-05"}).json()
    assert job["promises"] == {"broken": 1}
    listed = tenant.get(f"{BASE}/accounts/{other['id']}/promises").json()["items"]
    assert [(p["id"], p["status"]) for p in listed] == [(broken["id"], "broken")]
    # Each step was announced, about the account it happened to.
    assert [e["payload"]["promise_id"] for e in events(tenant, "ledger.promise_created")] == [
        promise["id"],
        broken["id"],
    ]
    [kept_event] = events(tenant, "ledger.promise_kept")
    assert (kept_event["subject"]["id"], kept_event["payload"]["paid"]) == (
        account["id"],
        money("100.00"),
    )
    [broken_event] = events(tenant, "ledger.promise_broken")
    assert (broken_event["subject"]["id"], broken_event["payload"]["status"]) == (
        other["id"],
        "broken",
    )


def test_promise_rules(tenant: TenantHandle, other_tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    path = f"{BASE}/accounts/{account['id']}/promises"
    assert_problem(
        tenant.post(path, json={"amount": money("10.00", "USD"), "due_on": "2999-01-01"}), 422
    )
    assert_problem(tenant.post(path, json={"amount": 10.0, "due_on": "2999-01-01"}), 400)
    first = tenant.post(path, json={"amount": money("10.00"), "due_on": "2999-01-01"}).json()
    # One open promise per account by default.
    assert_problem(tenant.post(path, json={"amount": money("10.00"), "due_on": "2999-01-02"}), 409)
    # Another tenant can neither see, add to nor cancel it.
    assert_problem(other_tenant.get(path), 404)
    assert_problem(
        other_tenant.post(path, json={"amount": money("1.00"), "due_on": "2999-01-01"}), 404
    )
    assert_problem(other_tenant.post(f"{BASE}/promises/{first['id']}/cancellation"), 404)
    cancelled = tenant.post(f"{BASE}/promises/{first['id']}/cancellation")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert_problem(tenant.post(f"{BASE}/promises/{first['id']}/cancellation"), 409)


def test_aging_job_buckets_the_tenants_accounts(tenant: TenantHandle, admin: Admin) -> None:
    new_account(tenant, **SMALL)  # first due 2026-02-15
    paid_up = new_account(tenant, **SMALL)
    # Instalments 1 and 2 cost 10.00 + 3.00 + 99.01 + 2.01 + 100.00 = 214.02; 220.00 pays
    # them and 5.98 of instalment 3, which is not due yet: the account is current.
    assert pay(tenant, paid_up["id"], "220.00", "2026-03-20").status_code == 201
    response = tenant.post(f"{BASE}/jobs/aging", json={"as_of": "2026-03-20"})
    assert response.status_code == 200, response.text
    report = response.json()
    # 2026-02-15 → 2026-03-20 is 33 days past due: bucket 31-60.
    assert report["counts"]["31-60"] == 1
    assert report["counts"]["current"] == 1
    assert report["changed"] == 1
    late = tenant.get(f"{BASE}/accounts", params={"bucket": "31-60"}).json()["items"]
    assert len(late) == 1
    assert late[0]["days_past_due"] == 33
    assert late[0]["aged_on"] == "2026-03-20"
