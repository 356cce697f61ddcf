"""French amortisation against the DOMAIN.md worked example and numpy-financial.

numpy-financial computes in floats; its figures are rounded to the minor unit before they
are compared, and compared only where floating point cannot blur a half-cent.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from almacen.gateway.amortisation import french_schedule, monthly_due_dates

D = Decimal
FIRST = dt.date(2026, 1, 31)


def test_domain_worked_example() -> None:
    # 1,000.00 at 12 % a year, 12 monthly instalments: 11 × 88.85 and a last of 88.84,
    # total interest 66.19.
    rows = french_schedule(
        D("1000.00"), annual_rate=D("0.12"), count=12, first_due=FIRST, exponent=2
    )
    assert [row.amount for row in rows] == [D("88.85")] * 11 + [D("88.84")]
    assert sum(row.interest for row in rows) == D("66.19")
    assert sum(row.principal for row in rows) == D("1000.00")
    assert (rows[0].interest, rows[0].principal) == (D("10.00"), D("78.85"))
    assert [row.number for row in rows] == list(range(1, 13))


def test_due_dates_keep_the_day_or_take_the_month_end() -> None:
    assert monthly_due_dates(FIRST, 4) == [
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 30),
    ]


def test_zero_rate_splits_evenly_with_the_remainder_last() -> None:
    rows = french_schedule(D("100.00"), annual_rate=D("0"), count=3, first_due=FIRST, exponent=2)
    assert [row.principal for row in rows] == [D("33.33"), D("33.33"), D("33.34")]
    assert all(row.interest == 0 for row in rows)


def test_exponent_zero_clp() -> None:
    # 100,000 CLP at 24 % a year (2 % a month) over 6: A = 100000·0.02/(1−1.02⁻⁶) = 17852.58
    # → 17853; first interest 2,000.
    rows = french_schedule(D("100000"), annual_rate=D("0.24"), count=6, first_due=FIRST, exponent=0)
    assert [row.amount for row in rows[:5]] == [D("17853")] * 5
    assert rows[0].interest == D("2000")
    assert sum(row.principal for row in rows) == D("100000")
    assert all(row.amount == row.amount.quantize(D(1)) for row in rows)


def test_exponent_three_kwd() -> None:
    # 1,000.000 KWD at 12 %: A = 88.84878867… → 88.849; interest 10.000 first.
    rows = french_schedule(
        D("1000.000"), annual_rate=D("0.12"), count=12, first_due=FIRST, exponent=3
    )
    assert [row.amount for row in rows[:11]] == [D("88.849")] * 11
    assert rows[0].interest == D("10.000")
    assert sum(row.principal for row in rows) == D("1000.000")
    assert rows[-1].amount == D("1000.000") + sum(r.interest for r in rows) - D("88.849") * 11


@pytest.mark.parametrize("bad", [{"principal": D("0")}, {"count": 0}, {"annual_rate": D("-0.1")}])
def test_refuses_nonsense(bad: dict[str, object]) -> None:
    args: dict[str, object] = {"principal": D("100"), "annual_rate": D("0.1"), "count": 3}
    args.update(bad)
    with pytest.raises(ValueError):
        french_schedule(
            args["principal"],  # type: ignore[arg-type]
            annual_rate=args["annual_rate"],  # type: ignore[arg-type]
            count=args["count"],  # type: ignore[arg-type]
            first_due=FIRST,
            exponent=2,
        )


def _cents(value: float) -> Decimal:
    return D(repr(value)).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def _clear_of_half_cent(value: float) -> bool:
    # Where a float lands within a hair of x.xx5, float and Decimal may round apart.
    fraction = abs(value * 100) % 1
    return abs(fraction - 0.5) > 1e-6


@settings(max_examples=150, deadline=None)
@given(
    principal=st.integers(min_value=10_000, max_value=100_000_000).map(lambda c: D(c) / 100),
    rate=st.integers(min_value=1, max_value=6000).map(lambda bp: D(bp) / 10_000),
    count=st.integers(min_value=1, max_value=60),
)
def test_agrees_with_numpy_financial(principal: Decimal, rate: Decimal, count: int) -> None:
    periodic = float(rate) / 12
    payment = -float(npf.pmt(periodic, count, float(principal)))
    rows = french_schedule(principal, annual_rate=rate, count=count, first_due=FIRST, exponent=2)
    if _clear_of_half_cent(payment):
        assert all(row.amount == _cents(payment) for row in rows[:-1])
    # The first instalment's split: interest on the whole principal, the rest principal.
    interest = -float(npf.ipmt(periodic, 1, count, float(principal)))
    if _clear_of_half_cent(interest) and _clear_of_half_cent(payment):
        assert rows[0].interest == _cents(interest)
        if count > 1:
            principal_part = -float(npf.ppmt(periodic, 1, count, float(principal)))
            assert abs(rows[0].principal - _cents(principal_part)) <= D("0.01")
    assert sum(row.principal for row in rows) == principal
    assert all(row.principal >= 0 and row.interest >= 0 for row in rows)
