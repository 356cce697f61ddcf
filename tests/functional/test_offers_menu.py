"""Offer policies and menus through HTTP: validation, tenant isolation, ledger facts, hook."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import pytest

from almacen import hookimpl
from almacen.modules.offers.amortisation import Instalment, monthly_due_dates
from almacen.modules.offers.menu import Facts, Offer, required_upfront
from almacen.modules.offers.policy import Terms
from tests.common.actors import Admin, TenantHandle, assert_problem
from tests.common.ledger import money, new_account

BASE = "/v1/offers"


def policy(**default: Any) -> dict[str, Any]:
    """A valid COP policy: a generous rule for bucket 90+, and default terms."""
    terms = {
        "max_discount": "0.20",
        "pay_in_full_discount": "0.05",
        "min_upfront": "0.10",
        "instalment_counts": [3, 6, 12],
        "min_instalment": money("50.00"),
        "max_term_months": 12,
        "refinancing_rate": "0.12",
        "validity_days": 7,
        "approval": {"discount_above": "0.15"},
    }
    rule = {**terms, "name": "late", "when": {"buckets": ["90+"]}, "max_discount": "0.40"}
    return {"currency": "COP", "rules": [rule], "default": {**terms, **default}}


def put_policy(tenant: TenantHandle, document: dict[str, Any]) -> dict[str, Any]:
    response = tenant.put(f"{BASE}/policy", json=document)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.modules("offers")
def test_policies_are_versioned_and_read_back(tenant: TenantHandle) -> None:
    assert_problem(tenant.get(f"{BASE}/policy"), 404)
    assert put_policy(tenant, policy())["version"] == 1
    second = put_policy(tenant, policy(max_discount="0.10"))
    assert second["version"] == 2
    current = tenant.get(f"{BASE}/policy").json()
    assert current["version"] == 2 and current["active"] is True
    assert current["document"]["default"]["max_discount"] == "0.10"


@pytest.mark.modules("offers")
def test_invalid_policy_lists_every_fault_with_pointers(tenant: TenantHandle) -> None:
    document = policy(max_discount=0.5, instalment_counts=[], validity_days=0)
    document["rules"][0]["when"] = {}
    document["rules"][0]["min_instalment"] = money("50.00", "USD")
    del document["rules"][0]["name"]
    body = assert_problem(tenant.put(f"{BASE}/policy", json=document), 422)
    pointers = {error["pointer"] for error in body["errors"]}
    assert {
        "/default/max_discount",
        "/default/instalment_counts",
        "/default/validity_days",
        "/rules/0/when",
        "/rules/0/name",
    } <= pointers
    no_default = assert_problem(tenant.put(f"{BASE}/policy", json={"currency": "COP"}), 422)
    assert {error["pointer"] for error in no_default["errors"]} == {"/default"}
    wrong = policy()
    wrong["default"]["min_instalment"] = money("50.00", "USD")
    body = assert_problem(tenant.put(f"{BASE}/policy", json=wrong), 422)
    assert body["errors"] == [
        {
            "pointer": "/default/min_instalment/currency",
            "detail": "must be the policy's currency COP",
        }
    ]
    floats = policy()
    floats["default"]["min_instalment"] = {"amount": 50.0, "currency": "COP"}
    assert_problem(tenant.put(f"{BASE}/policy", json=floats), 422)
    assert_problem(tenant.get(f"{BASE}/policy"), 404)  # nothing was stored


@pytest.mark.modules("offers", "ledger")
def test_menu_for_a_ledger_account(tenant: TenantHandle) -> None:
    account = new_account(tenant)
    body = assert_problem(tenant.post(f"{BASE}/menu", json={"account_id": account["id"]}), 422)
    assert "no offer policy" in body["detail"]
    put_policy(tenant, policy())
    response = tenant.post(f"{BASE}/menu", json={"account_id": account["id"]})
    assert response.status_code == 200, response.text
    menu = response.json()
    assert menu["facts_source"] == "ledger"
    assert menu["propensity"] == {"value": "0.3000", "source": "default"}
    balance = Decimal(menu["balance"]["amount"])
    assert balance > 0
    kinds = [offer["kind"] for offer in menu["offers"]]
    assert {"pay_in_full", "settlement", "plan", "refinancing"} <= set(kinds)
    values = [Decimal(offer["expected_recovery"]["amount"]) for offer in menu["offers"]]
    assert values == sorted(values, reverse=True)
    for offer in menu["offers"]:
        paid = sum(Decimal(row["principal"]["amount"]) for row in offer["schedule"])
        assert paid + Decimal(offer["forgiven"]["amount"]) == balance
        total = sum(Decimal(row["amount"]["amount"]) for row in offer["schedule"])
        assert total == Decimal(offer["total_cost"]["amount"])
        assert Decimal(offer["discount"]) <= Decimal("0.20")
    settlement = next(o for o in menu["offers"] if o["kind"] == "settlement")
    assert settlement["requires_approval"] is True


@pytest.mark.modules("offers")
def test_menu_from_given_facts_without_a_ledger(tenant: TenantHandle) -> None:
    put_policy(tenant, policy())
    facts = {"balance": money("1000.00"), "bucket": "90+", "days_past_due": 120}
    response = tenant.post(f"{BASE}/menu", json=facts)
    assert response.status_code == 200, response.text
    menu = response.json()
    assert menu["facts_source"] == "request" and menu["rule"] == "late"
    settlement = next(o for o in menu["offers"] if o["kind"] == "settlement")
    assert settlement["total_cost"] == money("600.00")
    # Bad input: floats for money, another currency, an account id without a ledger.
    floats = {"balance": {"amount": 1000.0, "currency": "COP"}}
    assert tenant.post(f"{BASE}/menu", json=floats).status_code in (400, 422)
    assert_problem(tenant.post(f"{BASE}/menu", json={"balance": money("10.00", "USD")}), 422)
    assert_problem(tenant.post(f"{BASE}/menu", json={"account_id": "0" * 32}), 422)
    assert_problem(tenant.post(f"{BASE}/menu", json={}), 422)


@pytest.mark.modules("offers", "ledger")
def test_tenants_cannot_see_each_others_policies_or_accounts(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    put_policy(tenant, policy())
    put_policy(other_tenant, policy(max_discount="0.01", pay_in_full_discount="0"))
    account = new_account(tenant)
    theirs = other_tenant.get(f"{BASE}/policy").json()
    assert theirs["document"]["default"]["max_discount"] == "0.01"
    assert_problem(other_tenant.post(f"{BASE}/menu", json={"account_id": account["id"]}), 404)
    assert_problem(tenant.post(f"{BASE}/menu", json={"account_id": "f" * 32}), 404)


class StepUp:
    """A plugin offer type: the rest after the upfront in instalments growing 50 % halfway."""

    name = "step_up"

    def offers(self, terms: Terms, facts: Facts, today: Any) -> Iterable[Offer]:
        upfront = required_upfront(terms, facts.balance)
        rest = facts.balance.amount - upfront
        low = (rest / 5).quantize(Decimal("0.01"))
        amounts = [low, low, rest - 2 * low]  # 20 %, 20 %, 60 %
        dates = monthly_due_dates(today, 4)[1:]
        rows = [Instalment(0, today, upfront, Decimal(0))] + [
            Instalment(n, due, amount, Decimal(0))
            for n, (due, amount) in enumerate(zip(dates, amounts, strict=True), start=1)
        ]
        return [Offer(kind="step_up", label="Step-up in 3 months", schedule=tuple(rows))]


class StepsPlugin:
    """Adds the step-up offer type."""

    @hookimpl
    def almacen_offers_offer_types(self) -> list[StepUp]:
        return [StepUp()]


@pytest.fixture(scope="module")
def steps_client(make_app: Callable[..., Any]) -> Any:
    return make_app(plugins=[("steps", StepsPlugin())]).test_client()


def test_hook_almacen_offers_offer_types(steps_client: Any, admin: Admin) -> None:
    operator = Admin(steps_client, admin.headers["X-API-Key"])
    tenant = operator.new_tenant(modules=["offers"])
    put_policy(tenant, policy())
    response = tenant.post(f"{BASE}/menu", json={"balance": money("1000.00")})
    assert response.status_code == 200, response.text
    step_up = [o for o in response.json()["offers"] if o["kind"] == "step_up"]
    assert len(step_up) == 1
    amounts = [row["amount"]["amount"] for row in step_up[0]["schedule"]]
    assert amounts == ["100.00", "180.00", "180.00", "540.00"]
