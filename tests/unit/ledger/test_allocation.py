"""Payment allocation strategies: worked examples written out by hand, and properties."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from almacen.gateway.errors import UnprocessableError
from almacen.modules.ledger.allocation import (
    Allocation,
    AllocationStrategy,
    ComponentFirstStrategy,
    Due,
    WaterfallStrategy,
    allocate_in_order,
    dues_from_outstanding,
    resolve_strategy,
)
from almacen.modules.ledger.journal import Outstanding

D = Decimal
JAN = dt.date(2026, 1, 31)
FEB = dt.date(2026, 2, 28)
DEFAULT_ORDER = ("fees", "penalties", "interest", "principal")


def instalment(instalment_id: str, number: int, due_on: dt.date, **owed: str) -> list[Due]:
    """The dues of one instalment; components not given owe nothing."""
    return [
        Due(instalment_id, number, due_on, component, D(owed.get(component, "0")))
        for component in DEFAULT_ORDER
    ]


def two_instalments() -> list[Due]:
    """Two instalments each owing fees 5.00, interest 10.00, principal 85.00 (100.00 each)."""
    return instalment("i1", 1, JAN, fees="5.00", interest="10.00", principal="85.00") + instalment(
        "i2", 2, FEB, fees="5.00", interest="10.00", principal="85.00"
    )


def triples(allocations: list[Allocation]) -> list[tuple[str, str, Decimal]]:
    return [(a.instalment_id, a.component, a.amount) for a in allocations]


def test_waterfall_pays_the_oldest_instalment_first() -> None:
    # 120.00 = instalment 1 in full (5 + 10 + 85 = 100), then 20.00 on instalment 2:
    # fees 5, interest 10, and the 5 left to principal.
    allocations = WaterfallStrategy().allocate(
        D("120.00"), two_instalments(), waterfall=DEFAULT_ORDER
    )

    assert triples(allocations) == [
        ("i1", "fees", D("5.00")),
        ("i1", "interest", D("10.00")),
        ("i1", "principal", D("85.00")),
        ("i2", "fees", D("5.00")),
        ("i2", "interest", D("10.00")),
        ("i2", "principal", D("5.00")),
    ]


def test_waterfall_orders_by_due_date_whatever_the_input_order() -> None:
    # Same example with the dues listed newest first: the answer does not change.
    dues = list(reversed(two_instalments()))

    allocations = WaterfallStrategy().allocate(D("120.00"), dues, waterfall=DEFAULT_ORDER)

    assert [a.instalment_id for a in allocations] == ["i1", "i1", "i1", "i2", "i2", "i2"]
    assert allocations[-1] == Allocation("i2", "principal", D("5.00"))


def test_waterfall_breaks_a_due_date_tie_by_instalment_number() -> None:
    dues = instalment("b", 2, JAN, principal="10.00") + instalment("a", 1, JAN, principal="10.00")

    allocations = WaterfallStrategy().allocate(D("15.00"), dues, waterfall=DEFAULT_ORDER)

    assert triples(allocations) == [("a", "principal", D("10.00")), ("b", "principal", D("5.00"))]


def test_waterfall_follows_the_tenants_component_order() -> None:
    # Order interest → fees → principal → penalties; 12.00 pays interest 10.00 then 2.00 fees.
    order = ("interest", "fees", "principal", "penalties")

    allocations = WaterfallStrategy().allocate(D("12.00"), two_instalments(), waterfall=order)

    assert triples(allocations) == [("i1", "interest", D("10.00")), ("i1", "fees", D("2.00"))]


def test_a_component_missing_from_the_order_is_paid_last() -> None:
    # Only principal is ordered: instalment 1's principal 85.00, then its fees and interest
    # (unordered, by name: fees 5.00, interest 10.00) from the 95.00.
    allocations = WaterfallStrategy().allocate(
        D("95.00"), two_instalments(), waterfall=("principal",)
    )

    assert triples(allocations) == [
        ("i1", "principal", D("85.00")),
        ("i1", "fees", D("5.00")),
        ("i1", "interest", D("5.00")),
    ]


def test_component_first_pays_each_component_across_instalments() -> None:
    # 120.00: all fees (5 + 5), then all interest (10 + 10), then principal oldest first:
    # 85.00 on instalment 1 and the remaining 5.00 on instalment 2.
    allocations = ComponentFirstStrategy().allocate(
        D("120.00"), two_instalments(), waterfall=DEFAULT_ORDER
    )

    assert triples(allocations) == [
        ("i1", "fees", D("5.00")),
        ("i2", "fees", D("5.00")),
        ("i1", "interest", D("10.00")),
        ("i2", "interest", D("10.00")),
        ("i1", "principal", D("85.00")),
        ("i2", "principal", D("5.00")),
    ]


def test_component_first_pays_all_interest_before_any_principal() -> None:
    # 25.00: fees 5 + 5, interest 10 + the 5 left on instalment 2's interest; no principal.
    allocations = ComponentFirstStrategy().allocate(
        D("25.00"), two_instalments(), waterfall=DEFAULT_ORDER
    )

    assert triples(allocations)[-1] == ("i2", "interest", D("5.00"))
    assert "principal" not in {a.component for a in allocations}


@pytest.mark.parametrize("strategy", [WaterfallStrategy(), ComponentFirstStrategy()])
def test_an_overpayment_leaves_the_excess_unallocated(strategy: AllocationStrategy) -> None:
    # 250.00 against 200.00 owed: every due paid in full, 50.00 left for the credit balance.
    allocations = strategy.allocate(D("250.00"), two_instalments(), waterfall=DEFAULT_ORDER)

    assert sum(a.amount for a in allocations) == D("200.00")
    assert sorted(triples(allocations)) == sorted(
        (d.instalment_id, d.component, d.outstanding)
        for d in two_instalments()
        if d.outstanding > 0
    )


@pytest.mark.parametrize("strategy", [WaterfallStrategy(), ComponentFirstStrategy()])
def test_non_positive_dues_are_skipped(strategy: AllocationStrategy) -> None:
    # Instalment 1 carries a -3.00 fee (an adjustment over-credited it) and nothing else.
    dues = instalment("i1", 1, JAN, fees="-3.00") + instalment("i2", 2, FEB, principal="50.00")

    allocations = strategy.allocate(D("20.00"), dues, waterfall=DEFAULT_ORDER)

    assert triples(allocations) == [("i2", "principal", D("20.00"))]


def test_zero_pays_nothing_and_a_negative_amount_is_refused() -> None:
    assert WaterfallStrategy().allocate(D(0), two_instalments(), waterfall=DEFAULT_ORDER) == []
    with pytest.raises(ValueError, match="negative"):
        allocate_in_order(D("-1.00"), two_instalments())


def test_dues_from_outstanding_lists_each_component() -> None:
    row = Outstanding(
        "i1",
        1,
        JAN,
        {"principal": D("85.00"), "interest": D("10.00"), "fees": D("5.00"), "penalties": D(0)},
    )

    dues = dues_from_outstanding([row])

    assert {(d.component, d.outstanding) for d in dues} == {
        ("principal", D("85.00")),
        ("interest", D("10.00")),
        ("fees", D("5.00")),
        ("penalties", D(0)),
    }
    assert {(d.instalment_id, d.number, d.due_on) for d in dues} == {("i1", 1, JAN)}


# -- properties ------------------------------------------------------------------------------

cents = st.decimals(min_value=D("-5.00"), max_value=D("500.00"), places=2)
days = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31))


@st.composite
def due_lists(draw: st.DrawFn) -> list[Due]:
    count = draw(st.integers(min_value=0, max_value=6))
    dues: list[Due] = []
    for number in range(1, count + 1):
        due_on = draw(days)
        for component in DEFAULT_ORDER:
            dues.append(Due(f"i{number}", number, due_on, component, draw(cents)))
    return dues


@pytest.mark.parametrize("strategy", [WaterfallStrategy(), ComponentFirstStrategy()])
@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(
    amount=st.decimals(min_value=D(0), max_value=D("3000.00"), places=2),
    dues=due_lists(),
    order=st.permutations(DEFAULT_ORDER),
)
def test_allocations_never_exceed_the_payment_or_a_due(
    strategy: AllocationStrategy, amount: Decimal, dues: list[Due], order: list[str]
) -> None:
    allocations = strategy.allocate(amount, dues, waterfall=order)

    owed = {(d.instalment_id, d.component): d.outstanding for d in dues}
    total_owed = sum((o for o in owed.values() if o > 0), D(0))
    assert all(a.amount > 0 for a in allocations)
    assert all(a.amount <= owed[(a.instalment_id, a.component)] for a in allocations)
    # Each due is paid at most once, so no due's total exceeds its outstanding amount.
    assert len({(a.instalment_id, a.component) for a in allocations}) == len(allocations)
    assert sum((a.amount for a in allocations), D(0)) == min(amount, total_owed)


# -- choosing a strategy ---------------------------------------------------------------------


class LastFirst:
    """A plugin's strategy: newest instalment first."""

    name = "last_first"

    def allocate(
        self, amount: Decimal, dues: Sequence[Due], *, waterfall: Sequence[str]
    ) -> list[Allocation]:
        ordered = sorted(dues, key=lambda d: (d.due_on, d.number), reverse=True)
        return allocate_in_order(amount, ordered)


class Impostor(LastFirst):
    name = "waterfall"


def test_built_in_strategies_resolve_by_name() -> None:
    assert isinstance(resolve_strategy("waterfall"), WaterfallStrategy)
    assert isinstance(resolve_strategy("component_first"), ComponentFirstStrategy)


def test_an_unknown_strategy_is_unprocessable_and_lists_the_known_ones() -> None:
    with pytest.raises(UnprocessableError) as raised:
        resolve_strategy("fifo", extra=[LastFirst()])

    assert "'fifo'" in raised.value.detail
    assert raised.value.extensions["known"] == ["component_first", "last_first", "waterfall"]
    assert "component_first, last_first, waterfall" in raised.value.detail


def test_a_plugin_strategy_resolves_and_allocates() -> None:
    strategy = resolve_strategy("last_first", extra=[LastFirst()])

    assert isinstance(strategy, AllocationStrategy)
    # 30.00 newest first: instalment 2's dues in list order fees 5, interest 10, then 15.00
    # of its principal.
    assert triples(strategy.allocate(D("30.00"), two_instalments(), waterfall=DEFAULT_ORDER)) == [
        ("i2", "fees", D("5.00")),
        ("i2", "interest", D("10.00")),
        ("i2", "principal", D("15.00")),
    ]


def test_a_plugin_strategy_may_not_shadow_a_built_in_one() -> None:
    with pytest.raises(ValueError, match="'waterfall' is already a built-in"):
        resolve_strategy("waterfall", extra=[Impostor()])


def test_two_plugin_strategies_may_not_share_a_name() -> None:
    with pytest.raises(ValueError, match="'last_first' is already another"):
        resolve_strategy("last_first", extra=[LastFirst(), LastFirst()])
