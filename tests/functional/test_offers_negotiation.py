"""Negotiation through HTTP: a table of counters with the answer expected for each, and the
record every counter leaves (the answer stored, the countered offer moved to ``countered``).

Balances accrue interest day by day, so amounts are taken from the account's menu of the
day: "the 6-month refinancing's instalment", "the settlement's lump sum".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.common.actors import TenantHandle, assert_problem
from tests.common.ledger import money
from tests.functional.test_offers_lifecycle import BASE, LEDGER, offer, propose, ready

pytestmark = pytest.mark.modules("offers", "ledger")


@dataclasses.dataclass(frozen=True)
class Account:
    """The account countered on, its menu of the day, and an offer when the case needs one."""

    id: str
    menu: dict[str, Any]
    offer_id: str | None = None

    def find(self, kind: str, months: int = 0) -> dict[str, Any]:
        return next(
            o for o in self.menu["offers"] if o["kind"] == kind and o["term_months"] == months
        )

    def instalment(self, kind: str, months: int) -> str:
        """The largest monthly instalment of the ``kind`` offer over ``months``."""
        rows = self.find(kind, months)["schedule"][1:]
        return str(max(Decimal(row["amount"]["amount"]) for row in rows))

    def lump(self, kind: str) -> str:
        return str(self.find(kind)["total_cost"]["amount"])

    @property
    def balance(self) -> Decimal:
        return Decimal(self.menu["balance"]["amount"])


@dataclasses.dataclass(frozen=True)
class Case:
    """One counter: how to build it, what to do first, and the answer expected."""

    body: Callable[[Account], dict[str, Any]]
    status: int = 201
    met: bool | None = None
    kind: str | None = None
    months: int | None = None
    offer_status: str = "proposed"
    reason: str | None = None
    total: Callable[[Account], str] | None = None
    before: str | None = None  # "offer", "expired", "rejected", "disputed"


def monthly(amount: str, currency: str = "COP") -> dict[str, Any]:
    return {"monthly": money(amount, currency)}


def upfront(amount: str, currency: str = "COP") -> dict[str, Any]:
    return {"upfront": money(amount, currency)}


CASES: dict[str, Case] = {
    "monthly covers the shortest refinancing": Case(
        lambda a: monthly(a.instalment("refinancing", 3)), met=True, kind="refinancing", months=3
    ),
    "monthly covers the 3-month plan but not its refinancing": Case(
        lambda a: monthly(a.instalment("plan", 3)), met=True, kind="plan", months=3
    ),
    "monthly covers six months": Case(
        lambda a: monthly(a.instalment("refinancing", 6)), met=True, kind="refinancing", months=6
    ),
    "monthly far above anything": Case(
        lambda a: monthly("1000000.00"), met=True, kind="refinancing", months=3
    ),
    "monthly just covers twelve months": Case(
        lambda a: monthly(a.instalment("refinancing", 12)),
        met=True,
        kind="refinancing",
        months=12,
    ),
    "monthly would need a term beyond the maximum": Case(
        lambda a: monthly("60.00"), met=False, kind="plan", months=12, reason="beyond"
    ),
    "monthly below the minimum instalment": Case(
        lambda a: monthly("20.00"),
        met=False,
        kind="plan",
        months=12,
        reason="below the minimum instalment",
    ),
    "upfront covers the whole balance": Case(
        lambda a: upfront(str(a.balance)),
        met=True,
        kind="pay_in_full",
        months=0,
        total=lambda a: a.lump("pay_in_full"),
    ),
    "upfront exactly paying in full": Case(
        lambda a: upfront(a.lump("pay_in_full")), met=True, kind="pay_in_full", months=0
    ),
    "upfront a settlement within the discount": Case(
        lambda a: upfront(str((a.balance * Decimal("0.9")).quantize(Decimal("0.01")))),
        met=True,
        kind="settlement",
        months=0,
        total=lambda a: str((a.balance * Decimal("0.9")).quantize(Decimal("0.01"))),
    ),
    "upfront the lowest settlement needs approval": Case(
        lambda a: upfront(a.lump("settlement")),
        met=True,
        kind="settlement",
        offer_status="pending_approval",
        total=lambda a: a.lump("settlement"),
    ),
    "upfront below the lowest settlement": Case(
        lambda a: upfront("500.00"),
        met=False,
        kind="settlement",
        offer_status="pending_approval",
        reason="below the lowest settlement",
        total=lambda a: a.lump("settlement"),
    ),
    "counter on a proposed offer": Case(
        lambda a: {"offer_id": a.offer_id, **monthly(a.instalment("plan", 6))},
        met=True,
        kind="plan",
        months=6,
        before="offer",
    ),
    "zero monthly": Case(lambda a: monthly("0.00"), status=422),
    "negative monthly": Case(lambda a: monthly("-150.00"), status=422),
    "negative upfront": Case(lambda a: upfront("-600.00"), status=422),
    "monthly in another currency": Case(lambda a: monthly("150.00", "USD"), status=422),
    "upfront in another currency": Case(lambda a: upfront("600.00", "USD"), status=422),
    "monthly and upfront at once": Case(
        lambda a: {**monthly("150.00"), **upfront("600.00")}, status=422
    ),
    "neither monthly nor upfront": Case(lambda a: {}, status=422),
    "amount as a JSON number": Case(
        lambda a: {"monthly": {"amount": 150.0, "currency": "COP"}}, status=400
    ),
    "counter on an expired offer": Case(
        lambda a: {"offer_id": a.offer_id, **monthly("150.00")}, status=409, before="expired"
    ),
    "counter on a rejected offer": Case(
        lambda a: {"offer_id": a.offer_id, **monthly("150.00")}, status=409, before="rejected"
    ),
    "counter on a disputed account": Case(
        lambda a: monthly("150.00"), status=409, before="disputed", reason="disputed"
    ),
    "counter on an unknown account": Case(
        lambda a: {**monthly("150.00"), "account_id": "f" * 32}, status=404
    ),
    "counter on an unknown offer": Case(
        lambda a: {**monthly("150.00"), "offer_id": "f" * 32}, status=404
    ),
}


def prepare(tenant: TenantHandle, case: Case) -> Account:
    account_id = ready(tenant)
    menu = tenant.post(f"{BASE}/menu", json={"account_id": account_id}).json()
    offer_id = None
    if case.before in ("offer", "expired", "rejected"):
        offer_id = propose(tenant, account_id, "plan", count=3)["id"]
    if case.before == "expired":
        tenant.post(f"{BASE}/jobs/expiry", json={"as_of": "2099-01-01"})
    if case.before == "rejected":
        tenant.post(f"{BASE}/offers/{offer_id}/reject")
    if case.before == "disputed":
        response = tenant.post(f"{LEDGER}/accounts/{account_id}/dispute", json={"reason": "no"})
        assert response.status_code == 201, response.text
    return Account(account_id, menu, offer_id)


def test_the_table_has_enough_counters() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("name", list(CASES))
def test_counter(tenant: TenantHandle, name: str) -> None:
    case = CASES[name]
    account = prepare(tenant, case)
    before = tenant.get(f"{BASE}/offers").json()["items"]
    body = {"account_id": account.id, **case.body(account)}
    if "offer_id" in body and case.before is not None:
        del body["account_id"]
    response = tenant.post(f"{BASE}/offers/counter", json=body)
    if case.status != 201:
        problem = assert_problem(response, case.status)
        if case.reason:
            assert case.reason in problem["detail"]
        # A refused counter records nothing.
        assert tenant.get(f"{BASE}/offers").json()["items"] == before
        return
    assert response.status_code == 201, response.text
    answer = response.json()
    made = answer["offer"]
    assert answer["met"] is case.met, answer["reason"]
    assert made["kind"] == case.kind
    if case.months is not None:
        assert made["term_months"] == case.months
    assert made["status"] == case.offer_status
    if case.reason:
        assert case.reason in answer["reason"]
    if case.total:
        assert made["terms"]["total_cost"]["amount"] == case.total(account)
    if case.met and "monthly" in body:
        largest = max(Decimal(r["amount"]["amount"]) for r in made["terms"]["schedule"][1:])
        assert largest <= Decimal(body["monthly"]["amount"])
    if case.met and "upfront" in body:
        assert Decimal(made["terms"]["total_cost"]["amount"]) <= Decimal(body["upfront"]["amount"])
    # Recorded: the answer is stored with the counter and the reason.
    stored = offer(tenant, made["id"])
    assert stored["counter"] == answer["counter"] and stored["reason"] == answer["reason"]
    assert "counter" in (stored["history"][0]["note"] or "")
    if case.before == "offer":
        assert answer["countered_offer_id"] == account.offer_id
        countered = offer(tenant, str(account.offer_id))
        assert countered["status"] == "countered"
        assert made["id"] in countered["history"][-1]["note"]
        assert_problem(tenant.post(f"{BASE}/offers/{account.offer_id}/accept"), 409)


def test_another_tenants_offer_cannot_be_countered(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    account_id = ready(tenant)
    made = propose(tenant, account_id, "plan", count=3)
    body = {"offer_id": made["id"], **monthly("150.00")}
    assert_problem(other_tenant.post(f"{BASE}/offers/counter", json=body), 404)
    assert offer(tenant, made["id"]) == made
