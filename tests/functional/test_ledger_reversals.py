"""Reversing a payment after the account moved on: settled by it, or put on a plan since.

The account of every example, as in test_ledger_payments.py (computed by hand there): 300.00
COP at 12 % a year over three months, originated 2026-01-15, opening fee 10.00; instalments
due 2026-02-15 (3.00 interest, 99.01 principal), 2026-03-15 (2.01, 100.00) and 2026-04-15
(1.01, 100.99). A payment of 120.00 on 2026-03-20 pays the fee, instalment 1 and 2.01 + 5.98
of instalment 2, leaving 195.01 of principal and instalment 3's 1.01 of interest, not yet due.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.common.actors import TenantHandle
from tests.common.ledger import BASE, journal, money, new_account, pay, summary

pytestmark = pytest.mark.modules("ledger")

SMALL = {
    "principal": money("300.00"),
    "fees": money("10.00"),
    "schedule": {"generate": {"count": 3, "first_due": "2026-02-15"}},
}


def reverse(tenant: TenantHandle, payment: dict[str, Any], effective_on: str) -> None:
    response = tenant.post(
        f"{BASE}/payments/{payment['id']}/reversal", json={"effective_on": effective_on}
    )
    assert response.status_code == 201, response.text


def paid(tenant: TenantHandle, account_id: str, amount: str, day: str) -> dict[str, Any]:
    response = pay(tenant, account_id, amount, day)
    assert response.status_code == 201, response.text
    return dict(response.json())


def plans_of(tenant: TenantHandle, account_id: str) -> list[dict[str, Any]]:
    return list(tenant.get(f"{BASE}/accounts/{account_id}/plans").json()["items"])


def test_reversing_the_payment_that_paid_off_an_account_reopens_it(tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    paid(tenant, account["id"], "120.00", "2026-03-20")
    # 195.01 pays it off on 21 March: instalment 3's interest, not yet due, is cancelled.
    payoff = paid(tenant, account["id"], "195.01", "2026-03-21")
    settled = summary(tenant, account["id"], "2026-04-15")
    assert (settled["account"]["status"], settled["total"]) == ("settled", money("0.00"))

    reverse(tenant, payoff, "2026-03-22")
    state = summary(tenant, account["id"], "2026-04-15")
    assert state["account"]["status"] == "open"
    # Owed again as before the payment: the principal, and the interest charged again.
    assert (state["balances"]["principal"], state["balances"]["interest"]) == (
        money("195.01"),
        money("1.01"),
    )
    assert (state["total"], state["credit"]) == (money("196.02"), money("0.00"))
    assert summary(tenant, account["id"], "2026-04-14")["total"] == money("195.01")
    # The account works as an open one: paying it off settles it again.
    paid(tenant, account["id"], "196.02", "2026-04-15")
    again = summary(tenant, account["id"], "2026-04-15")
    assert (again["account"]["status"], again["total"]) == ("settled", money("0.00"))


def test_an_overpayment_reversed_on_a_settled_account_leaves_it_settled(
    tenant: TenantHandle,
) -> None:
    account = new_account(tenant, **SMALL)
    paid(tenant, account["id"], "120.00", "2026-03-20")
    paid(tenant, account["id"], "195.01", "2026-03-21")
    extra = paid(tenant, account["id"], "5.00", "2026-03-25")  # all of it credit
    reverse(tenant, extra, "2026-03-26")
    state = summary(tenant, account["id"], "2026-04-15")
    assert (state["account"]["status"], state["total"], state["credit"]) == (
        "settled",
        money("0.00"),
        money("0.00"),
    )


def test_reversing_the_payment_that_completed_a_settlement_undoes_the_discount(
    tenant: TenantHandle,
) -> None:
    """Settled for 200.00 of 316.02 (see test_ledger_plans.py): 150.00 leaves 166.02, the
    next 50.00 completes it and 116.02 is forgiven. Reversing the 50.00 owes 166.02 again."""
    account = new_account(tenant, **SMALL)
    today = summary(tenant, account["id"])["as_of"]
    response = tenant.post(
        f"{BASE}/accounts/{account['id']}/settlements",
        json={"amount": money("200.00"), "due_on": "2999-12-31"},
    )
    assert response.status_code == 201, response.text
    paid(tenant, account["id"], "150.00", today)
    completing = paid(tenant, account["id"], "50.00", today)
    assert summary(tenant, account["id"], today)["account"]["status"] == "settled"

    reverse(tenant, completing, today)
    state = summary(tenant, account["id"], today)
    assert (state["account"]["status"], state["total"]) == ("open", money("166.02"))
    (settlement,) = plans_of(tenant, account["id"])
    assert (settlement["status"], settlement["resolved_on"]) == ("active", None)
    assert "forgiven" not in settlement["terms"]
    discounts = [e for e in journal(tenant, account["id"]) if e["kind"] == "discount"]
    assert len(discounts) == 1
    # Paying the 50.00 again completes it again, with the same discount.
    paid(tenant, account["id"], "50.00", today)
    state = summary(tenant, account["id"], today)
    assert (state["account"]["status"], state["total"]) == ("settled", money("0.00"))
    (settlement,) = plans_of(tenant, account["id"])
    assert (settlement["status"], settlement["terms"]["forgiven"]) == ("completed", "116.02")


def test_a_payment_reversed_after_a_plan_replaced_its_instalments_is_owed_on_the_plan(
    tenant: TenantHandle,
) -> None:
    """After the 120.00 payment, 196.02 goes on a plan of three instalments at 0 % (65.34
    each). Reversing the payment owes its 120.00 again, on the plan's first instalment (the
    instalments it had paid are replaced): 185.34, and 316.02 in all, which one payment
    clears."""
    account = new_account(tenant, **SMALL)
    early = paid(tenant, account["id"], "120.00", "2026-03-20")
    today = summary(tenant, account["id"])["as_of"]
    response = tenant.post(
        f"{BASE}/accounts/{account['id']}/plans", json={"count": 3, "first_due": "2999-01-31"}
    )
    assert response.status_code == 201, response.text
    assert [i["amount"] for i in response.json()["terms"]["instalments"]] == ["65.34"] * 3

    reverse(tenant, early, today)
    rows = tenant.get(
        f"{BASE}/accounts/{account['id']}/schedule", params={"as_of": "2999-12-31"}
    ).json()["items"]
    owed = [sum(Decimal(v["amount"]) for v in row["outstanding"].values()) for row in rows]
    assert owed == [Decimal("185.34"), Decimal("65.34"), Decimal("65.34")]
    assert summary(tenant, account["id"], today)["total"] == money("316.02")
    paid(tenant, account["id"], "316.02", today)
    state = summary(tenant, account["id"], "2999-12-31")
    assert (state["total"], state["credit"]) == (money("0.00"), money("0.00"))


def test_payments_and_the_journal_read_as_of_a_past_date(tenant: TenantHandle) -> None:
    """120.00 received 20 March and reversed on 22 March, read as of the days around."""
    account = new_account(tenant, **SMALL)
    payment = paid(tenant, account["id"], "120.00", "2026-03-20")
    reverse(tenant, payment, "2026-03-22")

    def payments_on(day: str) -> list[tuple[str, Any]]:
        response = tenant.get(f"{BASE}/accounts/{account['id']}/payments", params={"as_of": day})
        assert response.status_code == 200, response.text
        return [(p["status"], p["reversal_entry_id"]) for p in response.json()["items"]]

    def kinds_on(day: str | None) -> list[tuple[str, str]]:
        params = {"as_of": day, "limit": 50} if day else {"limit": 50}
        response = tenant.get(f"{BASE}/accounts/{account['id']}/journal", params=params)
        assert response.status_code == 200, response.text
        return sorted((e["effective_on"], e["kind"]) for e in response.json()["items"])

    assert payments_on("2026-03-19") == []
    assert payments_on("2026-03-21") == [("posted", None)]
    [(status, reversal)] = payments_on("2026-03-22")
    assert status == "reversed" and reversal is not None
    everything = kinds_on(None)
    # Interest falls due on each instalment's date: 15 February, 15 March, 15 April.
    assert [day for day, kind in everything if kind == "interest"] == [
        "2026-02-15",
        "2026-03-15",
        "2026-04-15",
    ]
    assert kinds_on("2026-03-21") == [e for e in everything if e[0] <= "2026-03-21"]
    assert ("2026-03-20", "payment") in kinds_on("2026-03-21")
    assert ("2026-03-22", "reversal") not in kinds_on("2026-03-21")
    assert ("2026-03-22", "reversal") in kinds_on("2026-03-22")
    bad = tenant.get(f"{BASE}/accounts/{account['id']}/payments", params={"as_of": "2026-02-30"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["parameter"] == "as_of"
