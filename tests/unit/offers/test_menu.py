"""Offer schedules against numpy-financial, and property tests of the menu's bounds."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from almacen.gateway.money import Money
from almacen.modules.offers.amortisation import (
    equal_schedule,
    french_schedule,
    implied_annual_rate,
    implied_annual_rate_exact,
)
from almacen.modules.offers.menu import Facts, build_menu, required_upfront, violations
from almacen.modules.offers.policy import Terms

TODAY = dt.date(2026, 1, 31)
CENT = Decimal("0.01")


def test_worked_example_1000_at_12_percent_over_12_months() -> None:
    rows = french_schedule(
        Decimal("1000.00"), annual_rate=Decimal("0.12"), count=12, first_due=TODAY, exponent=2
    )
    assert [row.amount for row in rows] == [Decimal("88.85")] * 11 + [Decimal("88.84")]
    assert sum(row.principal for row in rows) == Decimal("1000.00")
    assert rows[1].due_on == dt.date(2026, 2, 28)  # the 31st falls on the month's last day


@pytest.mark.parametrize(
    ("principal", "rate", "count"),
    [("1000.00", "0.12", 12), ("2500.50", "0.24", 6), ("99.99", "0.3", 3), ("10000", "0.18", 36)],
)
def test_instalments_agree_with_numpy_financial(principal: str, rate: str, count: int) -> None:
    rows = french_schedule(
        Decimal(principal), annual_rate=Decimal(rate), count=count, first_due=TODAY, exponent=2
    )
    expected = Decimal(str(-npf.pmt(float(rate) / 12, count, float(principal)))).quantize(
        CENT, rounding=ROUND_HALF_UP
    )
    assert all(row.amount == expected for row in rows[:-1])
    assert abs(rows[-1].amount - expected) <= CENT * count


def test_equal_instalments_agree_with_numpy_financial() -> None:
    rows = equal_schedule(Decimal("1000.00"), count=3, first_due=TODAY, exponent=2)
    expected = Decimal(str(-npf.pmt(0, 3, 1000.0))).quantize(CENT, rounding=ROUND_HALF_UP)
    assert [row.amount for row in rows] == [expected, expected, Decimal("333.34")]


def test_refinancing_effective_rate_is_implied_by_the_schedule() -> None:
    terms = _terms(
        refinancing_rate=Decimal("0.12"), instalment_counts=(12,), min_upfront=Decimal(0)
    )
    facts = Facts(balance=Money(Decimal("1000.00"), "COP"))
    menu = build_menu(
        terms, facts, today=TODAY, propensity=Decimal("0.5"), discount_rate=Decimal("0.12")
    )
    refinancing = next(item for item in menu if item.offer.kind == "refinancing")
    # 12 % nominal, compounded monthly: about 12.68 % effective.
    assert refinancing.effective_annual_rate is not None
    assert abs(refinancing.effective_annual_rate - Decimal("0.126825")) < Decimal("0.0002")
    plan = next(item for item in menu if item.offer.kind == "plan")
    assert plan.effective_annual_rate == Decimal(0)
    assert [item.rank for item in menu] == list(range(1, len(menu) + 1))
    values = [item.expected_recovery.amount for item in menu]
    assert values == sorted(values, reverse=True)


def _terms(**overrides: Any) -> Terms:
    base: dict[str, Any] = {
        "max_discount": Decimal("0.3"),
        "pay_in_full_discount": Decimal("0.05"),
        "min_upfront": Decimal("0.1"),
        "min_upfront_amount": None,
        "instalment_counts": (3, 6, 12),
        "min_instalment": Money(Decimal("20.00"), "COP"),
        "max_term_months": 12,
        "refinancing_rate": Decimal("0.2"),
        "validity_days": 7,
        "approval_discount_above": Decimal("0.2"),
        "approval_term_above_months": None,
    }
    return Terms(**{**base, **overrides})


fractions = st.decimals(min_value=0, max_value=Decimal("0.99"), places=2)


@st.composite
def terms_and_facts(draw: Any) -> tuple[Terms, Facts]:
    max_discount = draw(fractions)
    terms = _terms(
        max_discount=max_discount,
        pay_in_full_discount=draw(st.decimals(min_value=0, max_value=max_discount, places=2)),
        min_upfront=draw(st.decimals(min_value=0, max_value=1, places=2)),
        min_upfront_amount=draw(
            st.none()
            | st.decimals(min_value=0, max_value=5000, places=2).map(
                lambda amount: Money(amount, "COP")
            )
        ),
        instalment_counts=tuple(
            sorted(draw(st.sets(st.integers(min_value=1, max_value=72), min_size=1, max_size=6)))
        ),
        min_instalment=Money(draw(st.decimals(min_value="0.01", max_value=500, places=2)), "COP"),
        max_term_months=draw(st.integers(min_value=1, max_value=60)),
        refinancing_rate=draw(st.decimals(min_value=0, max_value=1, places=4)),
    )
    balance = draw(st.decimals(min_value="0.01", max_value=1_000_000, places=2))
    return terms, Facts(balance=Money(balance, "COP"))


@settings(max_examples=150, deadline=None)
@given(terms_and_facts())
def test_no_offer_breaks_a_bound(case: tuple[Terms, Facts]) -> None:
    terms, facts = case
    menu = build_menu(
        terms, facts, today=TODAY, propensity=Decimal("0.3"), discount_rate=Decimal("0.12")
    )
    assert menu, "paying in full is always on the menu"
    owed = facts.balance.amount
    for item in menu:
        offer = item.offer
        assert violations(offer, terms, facts) == []
        # Independent restatements of the bounds (not only the module's own checker).
        assert offer.forgiven <= owed * terms.max_discount
        assert offer.upfront >= required_upfront(terms, facts.balance)
        assert all(row.amount >= terms.min_instalment.amount for row in offer.instalments)
        assert len(offer.instalments) <= terms.max_term_months
        # Every schedule sums exactly to what it promises.
        assert sum(row.principal for row in offer.schedule) + offer.forgiven == owed
        assert sum(row.amount for row in offer.schedule) == offer.total
        assert item.discount <= terms.max_discount + Decimal("0.00005")
        dates = [row.due_on for row in offer.schedule]
        assert dates == sorted(dates)


@settings(max_examples=150, deadline=None)
@given(
    principal=st.decimals(min_value="100.00", max_value="1000000.00", places=2),
    count=st.sampled_from([1, 3, 6, 12, 24, 36, 72]),
    annual=st.decimals(min_value=0, max_value="0.60", places=4),
    upfront=st.decimals(min_value=0, max_value="0.30", places=2),
)
def test_newton_and_bisection_disclose_the_same_rate(
    principal: Decimal, count: int, annual: Decimal, upfront: Decimal
) -> None:
    """The fast Decimal Newton answer equals the slow bisection's to the sixth place."""
    rows = french_schedule(
        principal, annual_rate=annual, count=count, first_due=dt.date(2027, 1, 1), exponent=2
    )
    lent = principal - (principal * upfront).quantize(Decimal("0.01"))
    amounts = [row.amount for row in rows]
    assert implied_annual_rate(lent, amounts, guess=annual / 12) == implied_annual_rate_exact(
        lent, amounts
    )
