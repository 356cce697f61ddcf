"""The example plugin ``almacen-stepup``: a step-up plan added through
``almacen_offers_offer_types``.

Its wheel is built from ``plugins/almacen-stepup`` and its ``almacen.plugins`` entry point
loaded from the built wheel (as an installed distribution would be), then registered in an
app: the step-up plans appear in the menu with a worked example's amounts. A property test
shows that for every policy and balance no step-up offer breaks a bound, each sums exactly
to the balance and its instalments never shrink.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import itertools
import subprocess
import sys
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from almacen.gateway.money import Money
from almacen.modules.offers.menu import Facts, build_menu, required_upfront, violations
from almacen.modules.offers.policy import Terms
from tests.common.actors import Admin, TenantHandle
from tests.common.ledger import money, new_account

REPO = Path(__file__).resolve().parents[2]
STEPUP = REPO / "plugins" / "almacen-stepup"
BASE = "/v1/offers"


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin's wheel, built from the checkout and unpacked (an installed copy)."""
    out = tmp_path_factory.mktemp("stepup")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"),
            *("--no-build-isolation", "-w", str(out), str(STEPUP)),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    wheel = next(out.glob("almacen_stepup-*.whl"))
    unpacked = out / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    return unpacked


@pytest.fixture(scope="module")
def plugin(wheel_dir: Path) -> Any:
    """The plugin object its ``almacen.plugins`` entry point names, loaded from the wheel."""
    [info] = wheel_dir.glob("almacen_stepup-*.dist-info")
    distribution = importlib.metadata.PathDistribution(info)
    [entry] = [e for e in distribution.entry_points if e.group == "almacen.plugins"]
    assert (entry.name, entry.value) == ("stepup", "almacen_stepup")
    sys.path.insert(0, str(wheel_dir))
    try:
        return entry.load()
    finally:
        sys.path.remove(str(wheel_dir))


@pytest.fixture(scope="module")
def stepup_client(make_app: Callable[..., Any], plugin: Any) -> Any:
    """A client of an app with the plugin, from the environment's entry points when it is
    installed there (``make install``), else registered from the wheel."""
    installed = {e.name for e in importlib.metadata.entry_points(group="almacen.plugins")}
    extra = [] if "stepup" in installed else [("stepup", plugin)]
    return make_app(plugins=extra).test_client()


def policy() -> dict[str, Any]:
    """COP terms: 10 % upfront, plans of 3, 6 and 12 months of at least 50.00."""
    terms = {
        "max_discount": "0.20",
        "pay_in_full_discount": "0.05",
        "min_upfront": "0.10",
        "instalment_counts": [3, 6, 12],
        "min_instalment": money("50.00"),
        "max_term_months": 12,
        "refinancing_rate": "0.12",
        "validity_days": 7,
    }
    return {"currency": "COP", "rules": [], "default": terms}


def test_step_up_plans_appear_in_the_menu(stepup_client: Any, admin: Admin) -> None:
    operator = Admin(stepup_client, admin.headers["X-API-Key"])
    tenant: TenantHandle = operator.new_tenant(modules=["offers"])
    assert tenant.put(f"{BASE}/policy", json=policy()).status_code == 201
    response = tenant.post(f"{BASE}/menu", json={"balance": money("1000.00")})
    assert response.status_code == 200, response.text
    steps = {o["term_months"]: o for o in response.json()["offers"] if o["kind"] == "step_up"}
    assert sorted(steps) == [3, 6, 12]
    # 1,000.00: 100.00 upfront (10 %), 900.00 over 6 months rising 10 % after 3 months.
    # Weights 1, 1, 1, 1.1, 1.1, 1.1 (sum 6.3): base 900 / 6.3 = 142.857… → 142.85 (down);
    # 142.857… × 1.1 = 157.142… → 157.14; last 900 − 3·142.85 − 2·157.14 = 157.17.
    six = steps[6]
    amounts = [row["amount"]["amount"] for row in six["schedule"]]
    assert amounts == ["100.00", "142.85", "142.85", "142.85", "157.14", "157.14", "157.17"]
    assert six["total_cost"] == money("1000.00") and six["forgiven"] == money("0.00")
    assert six["effective_annual_rate"] == "0.000000"
    # Three months, no step yet: 300.00 each.
    assert [row["amount"]["amount"] for row in steps[3]["schedule"]][1:] == ["300.00"] * 3


def test_accepting_a_step_up_installs_its_schedule_in_the_ledger(
    stepup_client: Any, admin: Admin
) -> None:
    operator = Admin(stepup_client, admin.headers["X-API-Key"])
    tenant: TenantHandle = operator.new_tenant(modules=["offers", "ledger"])
    assert tenant.put(f"{BASE}/policy", json=policy()).status_code == 201
    account_id = new_account(tenant)["id"]
    made = tenant.post(
        f"{BASE}/offers", json={"account_id": account_id, "kind": "step_up", "count": 6}
    )
    assert made.status_code == 201, made.text
    offered = [row for row in made.json()["terms"]["schedule"] if row["number"] > 0]
    accepted = tenant.post(f"{BASE}/offers/{made.json()['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    plan_id = accepted.json()["ledger_plan_id"]
    assert plan_id, "a step-up plan must be installed, not only marked accepted"
    [plan] = tenant.get(f"/v1/ledger/accounts/{account_id}/plans").json()["items"]
    assert plan["id"] == plan_id
    # The ledger holds the rising instalments the debtor accepted, not a level schedule.
    installed = [(row["due_on"], row["amount"]) for row in plan["terms"]["instalments"]]
    # 10 % upfront (a down payment due on the ledger's first day), then the six steps.
    [upfront] = [r for r in made.json()["terms"]["schedule"] if r["number"] == 0]
    assert installed[0][1] == upfront["amount"]["amount"]
    assert installed[1:] == [(r["due_on"], r["amount"]["amount"]) for r in offered]
    amounts = [Decimal(amount) for _, amount in installed[1:]]
    assert amounts[3] > amounts[0], "the instalments rise after the first step"


fractions = st.decimals(min_value=0, max_value=Decimal("0.99"), places=2)


@st.composite
def terms_and_facts(draw: Any) -> tuple[Terms, Facts]:
    max_discount = draw(fractions)
    terms = Terms(
        max_discount=max_discount,
        pay_in_full_discount=draw(st.decimals(min_value=0, max_value=max_discount, places=2)),
        min_upfront=draw(st.decimals(min_value=0, max_value=1, places=2)),
        min_upfront_amount=draw(
            st.none()
            | st.decimals(min_value=0, max_value=5000, places=2).map(lambda v: Money(v, "COP"))
        ),
        instalment_counts=sorted(
            draw(st.sets(st.integers(min_value=1, max_value=72), min_size=1, max_size=6))
        ),
        min_instalment=Money(draw(st.decimals(min_value="0.01", max_value=500, places=2)), "COP"),
        max_term_months=draw(st.integers(min_value=1, max_value=72)),
        refinancing_rate=draw(st.decimals(min_value=0, max_value=1, places=4)),
        validity_days=7,
        approval_discount_above=None,
        approval_term_above_months=None,
    )
    balance = draw(st.decimals(min_value="0.01", max_value=1_000_000, places=2))
    return terms, Facts(balance=Money(balance, "COP"))


@settings(max_examples=200, deadline=None)
@given(terms_and_facts())
def test_step_up_never_breaks_a_bound(plugin: Any, case: tuple[Terms, Facts]) -> None:
    terms, facts = case
    today = dt.date(2026, 1, 31)
    made = list(plugin.STEP_UP.offers(terms, facts, today))
    for offer in made:
        assert violations(offer, terms, facts) == []
        assert offer.principal == facts.balance.amount and offer.forgiven == 0
        assert offer.upfront == required_upfront(terms, facts.balance)
        monthly = [row.amount for row in offer.instalments]
        assert len(monthly) in terms.instalment_counts and len(monthly) >= 2
        assert all(a <= b for a, b in itertools.pairwise(monthly))
        assert min(monthly) >= terms.min_instalment.amount
    menu = build_menu(
        terms,
        facts,
        today=today,
        propensity=Decimal("0.3"),
        discount_rate=Decimal("0.12"),
        extra_types=[plugin.STEP_UP],
    )
    listed = sorted((i.offer for i in menu if i.offer.kind == "step_up"), key=_term)
    assert listed == sorted(made, key=_term)


def _term(offer: Any) -> int:
    return len(offer.instalments)
