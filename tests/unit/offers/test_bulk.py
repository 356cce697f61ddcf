"""The batch's summaries are the one-account menu's figures, exactly, for any policy and
balance (and the French payment and interest are ``french_schedule``'s)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from almacen.gateway.amortisation import french_schedule
from almacen.gateway.money import Money
from almacen.modules.offers.amortisation import Instalment
from almacen.modules.offers.bulk import _french, bulk_summaries, plugin_offers, summaries_of
from almacen.modules.offers.menu import Facts, Offer, build_menu, required_upfront
from almacen.modules.offers.policy import Terms

from .test_menu import terms_and_facts

TODAY = dt.date(2026, 1, 31)


@settings(max_examples=300, deadline=None)
@given(
    terms_and_facts(),
    st.sampled_from([dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2024, 2, 29)]),
    st.decimals(min_value=0, max_value=1, places=4),
    st.decimals(min_value=0, max_value=Decimal("0.5"), places=4),
)
def test_bulk_summaries_equal_the_menu(
    case: tuple[Terms, Facts], today: dt.date, propensity: Decimal, discount_rate: Decimal
) -> None:
    terms, facts = case
    menu = build_menu(terms, facts, today=today, propensity=propensity, discount_rate=discount_rate)
    bulk = bulk_summaries(
        terms,
        facts.balance,
        required=required_upfront(terms, facts.balance),
        exponent=2,
        today=today,
        propensity=propensity,
        discount_rate=discount_rate,
    )
    assert bulk == summaries_of(menu)


def test_bulk_summaries_roll_due_dates_like_the_menu() -> None:
    # A roll that moves every date a week on changes whole months for some due dates.
    def roll(day: dt.date) -> dt.date:
        return day + dt.timedelta(days=7)

    terms, facts = _sample()
    menu = build_menu(
        terms,
        facts,
        today=TODAY,
        propensity=Decimal("0.4"),
        discount_rate=Decimal("0.3"),
        business_day=roll,
    )
    bulk = bulk_summaries(
        terms,
        facts.balance,
        required=required_upfront(terms, facts.balance),
        exponent=2,
        today=TODAY,
        propensity=Decimal("0.4"),
        discount_rate=Decimal("0.3"),
        business_day=roll,
    )
    assert bulk == summaries_of(menu)


@settings(max_examples=200, deadline=None)
@given(terms_and_facts(), st.integers(min_value=1, max_value=12))
def test_bulk_summaries_top_are_the_menus_best(case: tuple[Terms, Facts], top: int) -> None:
    terms, facts = case
    menu = build_menu(
        terms, facts, today=TODAY, propensity=Decimal("0.35"), discount_rate=Decimal("0.12")
    )
    bulk = bulk_summaries(
        terms,
        facts.balance,
        required=required_upfront(terms, facts.balance),
        exponent=2,
        today=TODAY,
        propensity=Decimal("0.35"),
        discount_rate=Decimal("0.12"),
        top=top,
    )
    assert bulk == summaries_of(menu)[:top]


@settings(max_examples=300, deadline=None)
@given(
    st.decimals(min_value="0.01", max_value=10_000_000, places=2),
    st.decimals(min_value=0, max_value=1, places=4),
    st.integers(min_value=1, max_value=120),
)
def test_french_amounts_are_french_schedules(principal: Decimal, rate: Decimal, count: int) -> None:
    rows = french_schedule(principal, annual_rate=rate, count=count, first_due=TODAY, exponent=2)
    assert _french(principal, rate, count, Decimal("0.01")) == [row.amount for row in rows]


class Halves:
    """A plugin-like offer type: half today, half in two months (once with 1 % interest)."""

    name = "halves"

    def offers(self, terms: Terms, facts: Facts, today: dt.date) -> list[Offer]:
        owed = facts.balance.amount
        half = (owed / 2).quantize(Decimal("0.01"))
        later = today + dt.timedelta(days=61)
        plain = (
            Instalment(0, today, half, Decimal(0)),
            Instalment(1, later, owed - half, Decimal(0)),
        )
        dearer = (plain[0], Instalment(1, later, owed - half, Decimal("0.01")))
        return [
            Offer(kind="halves", label="Half now, half later", schedule=plain),
            Offer(kind="halves", label="Half now, half later (1 cent)", schedule=dearer),
        ]


@settings(max_examples=200, deadline=None)
@given(terms_and_facts(), st.decimals(min_value=0, max_value=1, places=4))
def test_bulk_summaries_with_plugin_offers_equal_the_menu(
    case: tuple[Terms, Facts], propensity: Decimal
) -> None:
    terms, facts = case

    def roll(day: dt.date) -> dt.date:
        return day + dt.timedelta(days=day.day % 3)

    menu = build_menu(
        terms,
        facts,
        today=TODAY,
        propensity=propensity,
        discount_rate=Decimal("0.12"),
        extra_types=[Halves()],
        business_day=roll,
    )
    bulk = bulk_summaries(
        terms,
        facts.balance,
        required=required_upfront(terms, facts.balance),
        exponent=2,
        today=TODAY,
        propensity=propensity,
        discount_rate=Decimal("0.12"),
        business_day=roll,
        extras=plugin_offers([Halves()], terms, facts, today=TODAY, business_day=roll),
    )
    assert bulk == summaries_of(menu)


def _sample() -> tuple[Terms, Facts]:
    terms = Terms(
        max_discount=Decimal("0.3"),
        pay_in_full_discount=Decimal("0.05"),
        min_upfront=Decimal("0.1"),
        min_upfront_amount=None,
        instalment_counts=(3, 6, 12),
        min_instalment=Money(Decimal("20.00"), "COP"),
        max_term_months=12,
        refinancing_rate=Decimal("0.2"),
        validity_days=7,
        approval_discount_above=Decimal("0.2"),
        approval_term_above_months=6,
    )
    return terms, Facts(balance=Money(Decimal("12345.67"), "COP"))
