"""Ledger accounts through HTTP: opening, schedules, balances as of a date, adjustments.

Expected figures are worked out by hand (or from DOMAIN.md's worked example), never read
back from the module's own amortisation code.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.common.actors import TenantHandle, assert_problem
from tests.common.ledger import (
    BASE,
    account_body,
    journal,
    money,
    new_account,
    new_debtor,
    summary,
)

pytestmark = pytest.mark.modules("ledger")


def test_generated_schedule_is_the_domain_worked_example(tenant: TenantHandle) -> None:
    # DOMAIN.md: 1,000.00 at 12 % a year over 12 months: eleven instalments of 88.85 and a
    # last of 88.84; total interest 66.19.
    account = new_account(tenant)
    assert account["principal"] == money("1000.00")
    assert account["annual_rate"] == "0.12"
    response = tenant.get(
        f"{BASE}/accounts/{account['id']}/schedule", params={"as_of": "2027-12-31"}
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [i["scheduled"]["amount"] for i in items] == ["88.85"] * 11 + ["88.84"]
    assert [i["due_on"] for i in items][:3] == ["2026-02-15", "2026-03-15", "2026-04-15"]
    interest = sum(Decimal(i["due"]["interest"]["amount"]) for i in items)
    principal = sum(Decimal(i["due"]["principal"]["amount"]) for i in items)
    assert (interest, principal) == (Decimal("66.19"), Decimal("1000.00"))
    # First instalment: interest 1,000.00 × 1 % = 10.00, so principal 78.85.
    assert items[0]["due"]["interest"] == money("10.00")
    assert items[0]["due"]["principal"] == money("78.85")


def test_balances_count_interest_only_once_due(tenant: TenantHandle) -> None:
    account = new_account(tenant, fees=money("25.00"))
    before = summary(tenant, account["id"], "2026-02-14")
    assert before["balances"] == {
        "fees": money("25.00"),
        "penalties": money("0.00"),
        "interest": money("0.00"),
        "principal": money("1000.00"),
    }
    assert before["total"] == money("1025.00")
    assert before["credit"] == money("0.00")
    assert before["days_past_due"] == 0
    assert before["bucket"] == "current"
    assert before["next_instalment"] == {
        "number": 1,
        "due_on": "2026-02-15",
        "amount": money("113.85"),  # 88.85 and the 25.00 opening fee
    }
    # On the first due date its 10.00 of interest falls due; ten days later it is overdue.
    after = summary(tenant, account["id"], "2026-02-25")
    assert after["balances"]["interest"] == money("10.00")
    assert after["total"] == money("1035.00")
    assert after["days_past_due"] == 10
    assert after["bucket"] == "1-30"


def test_opening_entries_balance(tenant: TenantHandle) -> None:
    account = new_account(tenant, fees=money("25.00"))
    entries = journal(tenant, account["id"])
    kinds = [e["kind"] for e in entries]
    assert kinds.count("charge") == 1
    assert kinds.count("fee") == 1
    assert kinds.count("interest") == 12
    for entry in entries:
        assert sum(Decimal(p["amount"]["amount"]) for p in entry["postings"]) == 0
    charge = next(e for e in entries if e["kind"] == "charge")
    assert charge["effective_on"] == "2026-01-15"
    funding = [p for p in charge["postings"] if p["book"] == "funding"]
    assert funding == [{"book": "funding", "amount": money("-1000.00"), "instalment_id": None}]


def test_given_schedule(tenant: TenantHandle) -> None:
    body = account_body(
        new_debtor(tenant)["id"],
        principal=money("300", "CLP"),
        annual_rate="0",
        schedule={
            "instalments": [
                {
                    "due_on": "2026-02-01",
                    "principal": money("100", "CLP"),
                    "interest": money("5", "CLP"),
                },
                {
                    "due_on": "2026-03-01",
                    "principal": money("200", "CLP"),
                    "interest": money("3", "CLP"),
                },
            ]
        },
    )
    response = tenant.post(f"{BASE}/accounts", json=body)
    assert response.status_code == 201, response.text
    state = summary(tenant, response.json()["id"], "2026-03-01")
    assert state["total"] == money("308", "CLP")
    assert state["balances"]["interest"] == money("8", "CLP")


@pytest.mark.parametrize(
    ("change", "status", "pointer"),
    [
        ({"principal": {"amount": 1000.0, "currency": "COP"}}, 400, "/principal/amount"),
        ({"principal": money("1000.00", "XXY")}, 422, "/principal"),
        ({"principal": money("1000.001")}, 422, "/principal"),
        ({"principal": money("0.00")}, 422, "/principal/amount"),
        ({"fees": money("5.00", "USD")}, 422, "/fees/currency"),
        ({"annual_rate": "11"}, 422, "/annual_rate"),
        ({"annual_rate": 0.12}, 400, "/annual_rate"),
        ({"originated_on": "2999-01-01"}, 422, "/originated_on"),
        ({"originated_on": "2026-02-30"}, 400, "/originated_on"),
        (
            {"schedule": {"generate": {"count": 12, "first_due": "2026-01-01"}}},
            422,
            "/schedule/generate/first_due",
        ),
        (
            {
                "schedule": {
                    "instalments": [
                        {
                            "due_on": "2026-02-01",
                            "principal": money("999.99"),
                            "interest": money("0.00"),
                        }
                    ]
                }
            },
            422,
            "/schedule/instalments",
        ),
        (
            {
                "schedule": {
                    "instalments": [
                        {
                            "due_on": "2026-02-01",
                            "principal": money("1000.00", "USD"),
                            "interest": money("0.00"),
                        }
                    ]
                }
            },
            422,
            "/schedule/instalments/0/principal/currency",
        ),
        ({"surprise": 1}, 400, "/surprise"),
    ],
)
def test_bad_account_input_writes_nothing(
    tenant: TenantHandle, change: dict[str, Any], status: int, pointer: str
) -> None:
    debtor = new_debtor(tenant)
    response = tenant.post(f"{BASE}/accounts", json=account_body(debtor["id"], **change))
    body = assert_problem(response, status)
    assert pointer in [e.get("pointer") for e in body["errors"]], body
    listing = tenant.get(f"{BASE}/accounts", params={"debtor_id": debtor["id"]}).json()
    assert listing["items"] == []


def test_duplicate_external_ref_and_unknown_debtor(tenant: TenantHandle) -> None:
    account = new_account(tenant)
    again = account_body(account["debtor_id"], external_ref=account["external_ref"])
    assert_problem(tenant.post(f"{BASE}/accounts", json=again), 409)
    assert_problem(
        tenant.post(f"{BASE}/accounts", json=account_body("0" * 32)), 404, slug="not-found"
    )


def test_listing_filters_and_pages(tenant: TenantHandle) -> None:
    debtor = new_debtor(tenant)
    opened = [new_account(tenant, debtor["id"])["id"] for _ in range(3)]
    new_account(tenant)
    first = tenant.get(f"{BASE}/accounts", params={"debtor_id": debtor["id"], "limit": 2}).json()
    assert len(first["items"]) == 2
    second = tenant.get(
        f"{BASE}/accounts", params={"debtor_id": debtor["id"], "cursor": first["next"]}
    ).json()
    assert [a["id"] for a in first["items"] + second["items"]] == opened
    assert second["next"] is None
    assert len(tenant.get(f"{BASE}/accounts", params={"status": "open"}).json()["items"]) == 4


def test_adjustments(tenant: TenantHandle) -> None:
    account = new_account(tenant)
    path = f"{BASE}/accounts/{account['id']}/adjustments"
    penalty = {
        "kind": "penalty",
        "component": "penalties",
        "amount": money("15.00"),
        "effective_on": "2026-03-01",
        "memo": "late fee",
    }
    response = tenant.post(path, json=penalty)
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "penalty"
    discount = {
        "kind": "discount",
        "component": "principal",
        "amount": money("100.00"),
        "effective_on": "2026-03-01",
    }
    assert tenant.post(path, json=discount).status_code == 201
    state = summary(tenant, account["id"], "2026-03-01")
    assert state["balances"]["penalties"] == money("15.00")
    assert state["balances"]["principal"] == money("900.00")
    # Forgiving more than is owed, or a fee on the principal, is refused.
    too_much = {**discount, "kind": "write_off", "amount": money("900.01")}
    assert_problem(tenant.post(path, json=too_much), 422)
    wrong = {**penalty, "kind": "fee", "component": "principal"}
    assert_problem(tenant.post(path, json=wrong), 422)
    assert len(journal(tenant, account["id"])) == 1 + 12 + 2


def test_accounts_of_another_tenant_are_invisible(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    account = new_account(tenant)
    path = f"{BASE}/accounts/{account['id']}"
    for suffix in ("", "/schedule", "/journal", "/payments", "/promises"):
        assert_problem(other_tenant.get(path + suffix), 404)
    adjustment = {
        "kind": "fee",
        "component": "fees",
        "amount": money("1.00"),
        "effective_on": "2026-03-01",
    }
    assert_problem(other_tenant.post(f"{path}/adjustments", json=adjustment), 404)
    assert other_tenant.get(f"{BASE}/accounts").json()["items"] == []
    # And B cannot open an account for A's debtor.
    assert_problem(
        other_tenant.post(f"{BASE}/accounts", json=account_body(account["debtor_id"])), 404
    )
    # B's aging job ages B's accounts only.
    job = other_tenant.post(f"{BASE}/jobs/aging", json={"as_of": "2026-06-01"})
    assert job.status_code == 200, job.text
    assert sum(job.json()["counts"].values()) == 0
    assert summary(tenant, account["id"])["account"]["aged_on"] is None
    assert len(journal(tenant, account["id"])) == 13
