"""Payment plans, settlements and disputes through HTTP.

The account of every example, computed by hand: 300.00 COP at 12 % a year over three months
(r = 1 % a month), originated 2026-01-15, opening fee 10.00 (as in test_ledger_payments.py):

  no.  due         interest  principal
  1    2026-02-15  3.00      99.01      (+ the 10.00 fee)
  2    2026-03-15  2.01      100.00
  3    2026-04-15  1.01      100.99

Plans and settlements start today (every instalment has long fallen due), so the account owes
fees 10.00 + interest 6.02 + principal 300.00 = 316.02 when they are agreed.
"""

from __future__ import annotations

import datetime as dt
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
OWED = {
    "fees": money("10.00"),
    "penalties": money("0.00"),
    "interest": money("6.02"),
    "principal": money("300.00"),
}


def schedule_of(tenant: TenantHandle, account_id: str, as_of: str) -> list[dict[str, Any]]:
    response = tenant.get(f"{BASE}/accounts/{account_id}/schedule", params={"as_of": as_of})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def install(tenant: TenantHandle, account_id: str, **body: Any) -> Any:
    return tenant.post(f"{BASE}/accounts/{account_id}/plans", json=body)


def plans_of(tenant: TenantHandle, account_id: str) -> list[dict[str, Any]]:
    response = tenant.get(f"{BASE}/accounts/{account_id}/plans")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def plans_as_of(tenant: TenantHandle, account_id: str, day: str) -> list[tuple[str, Any]]:
    response = tenant.get(f"{BASE}/accounts/{account_id}/plans", params={"as_of": day})
    assert response.status_code == 200, response.text
    return [(p["status"], p["resolved_on"]) for p in response.json()["items"]]


def later(day: str, days: int) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()


def test_plan_at_zero_percent_keeps_every_balance(tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    today = summary(tenant, account["id"])["as_of"]
    before = summary(tenant, account["id"], today)
    assert before["balances"] == OWED
    # 316.02 / 7 = 45.1457… → 45.15 six times (270.90) and the remainder 45.12 last. The
    # components fill the instalments in waterfall order: the first takes the fee 10.00, the
    # interest 6.02 and 29.13 of principal; the others are principal only.
    response = install(tenant, account["id"], count=7, first_due="2999-01-31")
    assert response.status_code == 201, response.text
    plan = response.json()
    assert (plan["kind"], plan["status"], plan["agreed_on"]) == ("plan", "active", today)
    terms = plan["terms"]
    assert terms["balance"] == "316.02"
    assert [i["amount"] for i in terms["instalments"]] == ["45.15"] * 6 + ["45.12"]
    assert [i["number"] for i in terms["instalments"]] == [4, 5, 6, 7, 8, 9, 10]
    assert [r["number"] for r in terms["replaced"]] == [1, 2, 3]
    # A month's end is kept: 31 January, then the last day of February (2999 is no leap year).
    assert [i["due_on"] for i in terms["instalments"][:2]] == ["2999-01-31", "2999-02-28"]

    after = summary(tenant, account["id"], today)
    assert after["balances"] == before["balances"]
    assert after["days_past_due"] == 0  # nothing of the plan has fallen due yet
    rows = schedule_of(tenant, account["id"], today)
    assert [r["number"] for r in rows] == [4, 5, 6, 7, 8, 9, 10]
    first = rows[0]["outstanding"]
    assert (first["fees"], first["interest"], first["principal"]) == (
        money("10.00"),
        money("6.02"),
        money("29.13"),
    )
    assert rows[-1]["outstanding"]["principal"] == money("45.12")
    moved = [e for e in journal(tenant, account["id"]) if e["kind"] == "adjustment"]
    assert len(moved) == 1
    assert sum(Decimal(p["amount"]["amount"]) for p in moved[0]["postings"]) == 0
    # Only one active plan.
    again = install(tenant, account["id"], count=2, first_due="2999-01-31")
    assert_problem(again, 409)
    assert len(plans_of(tenant, account["id"])) == 1


def test_plan_with_down_payment_and_refinancing(tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    today = summary(tenant, account["id"])["as_of"]
    # Down payment 16.02 (the fee and the interest, in waterfall order); the 300.00 left is
    # refinanced at 12 %: the file's worked example again, 102.01, 102.01 and the remainder
    # 100.99 + 1.01 = 102.00, new interest 3.00, 2.01 and 1.01 charged on each due date.
    response = install(
        tenant,
        account["id"],
        count=3,
        first_due="2999-01-15",
        down_payment=money("16.02"),
        annual_rate="0.12",
    )
    assert response.status_code == 201, response.text
    terms = response.json()["terms"]
    assert [i["amount"] for i in terms["instalments"]] == ["16.02", "102.01", "102.01", "102.00"]
    assert terms["instalments"][0]["due_on"] == today
    assert summary(tenant, account["id"], today)["balances"] == OWED
    # By the last due date the new interest (6.02) has been charged too.
    assert summary(tenant, account["id"], "2999-03-15")["total"] == money("322.04")
    # Paying the down payment today pays the fee and the interest, as before the plan.
    paid = pay(tenant, account["id"], "16.02", today)
    assert paid.status_code == 201, paid.text
    assert [(a["number"], a["component"]) for a in paid.json()["allocations"]] == [
        (4, "fees"),
        (4, "interest"),
    ]


def test_bad_plans_write_nothing(tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    entries = len(journal(tenant, account["id"]))
    cases = [
        ({"count": 3, "first_due": "2999-01-15", "down_payment": money("5.00", "USD")}, 422),
        # The instalments must cover something: a down payment of the whole balance cannot.
        ({"count": 3, "first_due": "2999-01-15", "down_payment": money("316.02")}, 422),
        ({"count": 3, "first_due": "2000-01-15"}, 422),
        ({"count": 0, "first_due": "2999-01-15"}, 400),
        ({"count": 3, "first_due": "2999-01-15", "down_payment": 5.0}, 400),
    ]
    for body, status in cases:
        assert_problem(install(tenant, account["id"], **body), status)
    assert len(journal(tenant, account["id"])) == entries
    assert plans_of(tenant, account["id"]) == []
    assert_problem(install(tenant, "0" * 32, count=3, first_due="2999-01-15"), 404)


@pytest.mark.parametrize("policy", ["keep", "revert"])
def test_broken_plan_keeps_or_reverts(tenant: TenantHandle, admin: Admin, policy: str) -> None:
    config = {"on_plan_broken": policy, "plan_broken_after_days": 30}
    assert admin.subscribe(tenant.id, "ledger", config).status_code == 200
    account = new_account(tenant, **SMALL)
    today = summary(tenant, account["id"])["as_of"]
    response = install(
        tenant, account["id"], count=3, first_due="2999-01-15", down_payment=money("16.02")
    )
    assert response.status_code == 201, response.text
    # 10.00 of the 16.02 due today is paid (the fee); 6.02 of interest is still owed on the
    # down payment. 30 days later the plan holds; 31 days later it is broken.
    assert pay(tenant, account["id"], "10.00", today).status_code == 201
    job = tenant.post(f"{BASE}/jobs/aging", json={"as_of": later(today, 30)})
    assert job.status_code == 200, job.text
    assert job.json()["plans"] == {}
    job = tenant.post(f"{BASE}/jobs/aging", json={"as_of": later(today, 31)})
    assert job.json()["plans"] == {"broken": 1}
    (plan,) = plans_of(tenant, account["id"])
    assert (plan["status"], plan["resolved_on"]) == ("broken", later(today, 31))
    # Read as of a day: not agreed yet the day before, active the day before it broke.
    assert plans_as_of(tenant, account["id"], later(today, -1)) == []
    assert plans_as_of(tenant, account["id"], later(today, 30)) == [("active", None)]
    assert plans_as_of(tenant, account["id"], later(today, 31)) == [("broken", later(today, 31))]
    day = later(today, 31)
    state = summary(tenant, account["id"], day)
    assert state["total"] == money("306.02")  # 316.02 − 10.00, whatever the policy
    rows = schedule_of(tenant, account["id"], day)
    if policy == "keep":
        assert [r["number"] for r in rows] == [4, 5, 6, 7]
        return
    # Reverted: the 6.02 of interest and 300.00 of principal go back to the instalments they
    # came from (newest first, each up to what it owed: 1.01, 2.01, 3.00 and 100.99, 100.00,
    # 99.01); the fee, paid under the plan, does not come back.
    assert [r["number"] for r in rows] == [1, 2, 3]
    owed = [
        (r["outstanding"]["fees"]["amount"], r["outstanding"]["interest"]["amount"]) for r in rows
    ]
    assert owed == [("0.00", "3.00"), ("0.00", "2.01"), ("0.00", "1.01")]
    assert [r["outstanding"]["principal"]["amount"] for r in rows] == ["99.01", "100.00", "100.99"]
    assert state["days_past_due"] > 200  # overdue since 15 February again


def test_settlement_forgives_the_rest_only_on_completion(tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    today = summary(tenant, account["id"])["as_of"]
    response = tenant.post(
        f"{BASE}/accounts/{account['id']}/settlements",
        json={"amount": money("200.00"), "due_on": "2999-12-31"},
    )
    assert response.status_code == 201, response.text
    settlement = response.json()
    assert (settlement["kind"], settlement["terms"]["balance"]) == ("settlement", "316.02")
    # 150.00 pays the fee 10.00, instalment 1 (3.00 + 99.01) and instalment 2's interest 2.01
    # and 35.98 of its principal: 166.02 is left and nothing is forgiven yet.
    assert pay(tenant, account["id"], "150.00", today).status_code == 201
    state = summary(tenant, account["id"], today)
    assert (state["total"], state["account"]["status"]) == (money("166.02"), "open")
    # 50.00 more reaches 200.00: it pays 50.00 of instalment 2's principal, and the rest,
    # 14.02 + 1.01 + 100.99 = 116.02, is forgiven in one discount entry.
    assert pay(tenant, account["id"], "50.00", today).status_code == 201
    state = summary(tenant, account["id"], today)
    assert (state["total"], state["account"]["status"]) == (money("0.00"), "settled")
    (discount,) = [e for e in journal(tenant, account["id"]) if e["kind"] == "discount"]
    legs = [(p["book"], p["amount"]["amount"]) for p in discount["postings"]]
    assert legs == [
        ("receivable:interest", "-1.01"),
        ("receivable:principal", "-14.02"),
        ("receivable:principal", "-100.99"),
        ("discount", "116.02"),
    ]
    (plan,) = plans_of(tenant, account["id"])
    assert (plan["status"], plan["resolved_on"], plan["terms"]["forgiven"]) == (
        "completed",
        today,
        "116.02",
    )
    settled = tenant.get("/v1/events", params={"type": "ledger.account_settled"}).json()
    assert [(e["subject"]["id"], e["payload"]["settled_on"]) for e in settled["items"]] == [
        (account["id"], today)
    ]
    # A settled account takes no plan and no other settlement.
    assert_problem(install(tenant, account["id"], count=3, first_due="2999-01-15"), 409)


def test_bad_settlements_write_nothing(tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    path = f"{BASE}/accounts/{account['id']}/settlements"
    cases = [
        ({"amount": money("316.02"), "due_on": "2999-12-31"}, 422),  # not less than the balance
        ({"amount": money("100.00", "USD"), "due_on": "2999-12-31"}, 422),
        ({"amount": money("100.00"), "due_on": "2000-12-31"}, 422),
        ({"amount": money("0.00"), "due_on": "2999-12-31"}, 422),
    ]
    for body, status in cases:
        assert_problem(tenant.post(path, json=body), status)
    assert plans_of(tenant, account["id"]) == []
    ok = tenant.post(path, json={"amount": money("100.00"), "due_on": "2999-12-31"})
    assert ok.status_code == 201, ok.text
    assert_problem(tenant.post(path, json={"amount": money("90.00"), "due_on": "2999-12-31"}), 409)
    assert_problem(install(tenant, account["id"], count=3, first_due="2999-01-15"), 409)


def test_settlement_broken_after_its_due_date(tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    today = summary(tenant, account["id"])["as_of"]
    path = f"{BASE}/accounts/{account['id']}/settlements"
    assert tenant.post(path, json={"amount": money("100.00"), "due_on": today}).status_code == 201
    assert pay(tenant, account["id"], "40.00", today).status_code == 201
    job = tenant.post(f"{BASE}/jobs/aging", json={"as_of": later(today, 1)})
    assert job.json()["plans"] == {"broken": 1}
    assert summary(tenant, account["id"], later(today, 1))["total"] == money("276.02")


def test_disputes(tenant: TenantHandle, other_tenant: TenantHandle) -> None:
    account = new_account(tenant)
    path = f"{BASE}/accounts/{account['id']}/dispute"
    opened = tenant.post(path, json={"reason": "never received the loan"})
    assert opened.status_code == 201, opened.text
    assert opened.json()["status"] == "open"
    assert summary(tenant, account["id"])["account"]["disputed"] is True
    assert_problem(tenant.post(path, json={"reason": "again"}), 409)
    assert_problem(other_tenant.post(path, json={"reason": "not mine"}), 404)
    assert_problem(tenant.post(f"{path}/resolution", json={"outcome": "maybe"}), 400)
    resolved = tenant.post(f"{path}/resolution", json={"outcome": "rejected"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "rejected"
    assert resolved.json()["resolved_at"] is not None
    assert summary(tenant, account["id"])["account"]["disputed"] is False
    assert_problem(tenant.post(f"{path}/resolution", json={"outcome": "upheld"}), 409)
    assert tenant.post(path, json={"reason": "once more"}).status_code == 201
    # Aging still runs on a disputed account.
    assert tenant.post(f"{BASE}/jobs/aging", json={"as_of": "2026-03-20"}).status_code == 200


def test_upheld_dispute_writes_the_disputed_amount_off(tenant: TenantHandle) -> None:
    account = new_account(tenant, **SMALL)
    path = f"{BASE}/accounts/{account['id']}/dispute"
    assert_problem(tenant.post(path, json={"reason": "x", "amount": money("5.00", "USD")}), 422)
    opened = tenant.post(path, json={"reason": "fee never agreed", "amount": money("12.00")})
    assert opened.status_code == 201, opened.text
    assert opened.json()["amount"] == money("12.00")
    refused = tenant.post(f"{path}/resolution", json={"outcome": "rejected", "write_off": True})
    assert_problem(refused, 422)
    resolved = tenant.post(f"{path}/resolution", json={"outcome": "upheld", "write_off": True})
    assert resolved.status_code == 200, resolved.text
    # 12.00 forgiven interest first, oldest instalment first: 3.00, 2.01 and 1.01 of interest
    # (6.02), then the 10.00 fee gives 5.98: 316.02 − 12.00 = 304.02 left.
    (entry,) = [e for e in journal(tenant, account["id"]) if e["kind"] == "write_off"]
    assert entry["id"] == resolved.json()["write_off_entry_id"]
    legs = [(p["book"], p["amount"]["amount"]) for p in entry["postings"]]
    assert legs == [
        ("receivable:interest", "-3.00"),
        ("receivable:interest", "-2.01"),
        ("receivable:interest", "-1.01"),
        ("receivable:fees", "-5.98"),
        ("write_off", "12.00"),
    ]
    state = summary(tenant, account["id"])
    assert state["total"] == money("304.02")
    assert state["account"]["disputed"] is False
