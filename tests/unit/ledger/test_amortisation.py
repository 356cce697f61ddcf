"""French amortisation against the DOMAIN.md worked example and numpy-financial.

numpy-financial is given Decimals (it supports them) and computes at 60 significant digits,
so no float blurs a half-cent; its figures are rounded to the minor unit by the rule the
code documents (half-up) and compared row by row, without exception.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import example, given, settings
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


def _half_up(value: Fraction, exponent: int) -> Decimal:
    """``value`` rounded half-up (away from zero at exactly half) to ``exponent`` decimals."""
    scaled = value * 10**exponent
    whole, rest = divmod(abs(scaled.numerator), scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    return Decimal(whole if scaled >= 0 else -whole).scaleb(-exponent)


def _npf_interest(periodic: Decimal, remaining: int, balance: Decimal, grid: int) -> Fraction:
    """One period's interest on ``balance`` by numpy-financial: ``ipmt`` of period 1 of a
    ``remaining``-period annuity of present value ``balance`` (negative: money lent).

    numpy-financial's Decimal is off the exact value by ~1e-55 (``periodic`` does not
    terminate: 13 % / 12 = 0.0108333…). The exact value is a fraction whose denominator
    divides ``grid`` (balance × annual rate / 12), so the nearest such fraction is it.
    """
    value = np.asarray(npf.ipmt(periodic, 1, remaining, -balance), dtype=object).item()
    return Fraction(value).limit_denominator(grid)


def _check_against_numpy_financial(
    principal: Decimal, rate: Decimal, count: int, exponent: int
) -> None:
    """Every row of ``french_schedule`` against numpy-financial, on the schedule's own
    rounded running balance. The rules the code documents and applies (``unit`` is the
    currency's minor unit, 10 ** -exponent):

    - the level instalment ``A`` is ``npf.pmt(rate / 12, count, -principal)`` rounded
      half-up to the unit, and every row but the last pays exactly ``A``;
    - row k's interest is one period's interest on the balance left before it
      (``npf.ipmt(rate / 12, 1, count - k + 1, -balance)``: balance × rate / 12), rounded
      half-up to the unit, a tie of exactly half a unit included; its principal is ``A``
      minus that interest;
    - the last row's principal is whatever balance remains (the last instalment absorbs
      every rounding remainder), plus its interest; the balance ends at exactly 0.
    """
    rows = french_schedule(
        principal, annual_rate=rate, count=count, first_due=FIRST, exponent=exponent
    )
    assert [row.number for row in rows] == list(range(1, count + 1))
    unit = D(1).scaleb(-exponent)
    # Balances are whole units: one period's interest is a multiple of 1 / grid.
    grid = 12 * 10**exponent * Fraction(rate).denominator
    with localcontext() as context:
        context.prec = 60
        periodic = rate / 12
        level = Decimal(npf.pmt(periodic, count, -principal)).quantize(unit, rounding=ROUND_HALF_UP)
        balance = principal
        for k, row in enumerate(rows, start=1):
            exact = _npf_interest(periodic, count - k + 1, balance, grid)
            interest = _half_up(exact, exponent)
            assert row.interest == interest, (k, balance, exact, row)
            if k < count:
                assert row.amount == level, (k, balance, row)
                assert row.principal == level - interest, (k, row)
            else:
                assert row.principal == balance, (k, row)
            balance -= row.principal
    assert balance == 0
    assert sum(row.principal for row in rows) == principal


@settings(max_examples=150, deadline=None)
# A tie: 270.00 × 25 % / 12 = 5.625 exactly → 5.63; where rate / 12 does not terminate
# (0.0208333…), multiplying by the rounded periodic rate gave 5.62.
@example(units=27_000, rate=D("0.25"), count=12, exponent=2)
@given(
    units=st.integers(min_value=10_000, max_value=100_000_000),
    rate=st.integers(min_value=1, max_value=6000).map(lambda bp: D(bp).scaleb(-4)),
    count=st.integers(min_value=1, max_value=60),
    exponent=st.sampled_from([2, 0, 3]),
)
def test_agrees_with_numpy_financial_row_by_row(
    units: int, rate: Decimal, count: int, exponent: int
) -> None:
    """Principals of 10,000 to 100,000,000 minor units (100.00 to 1,000,000.00 in a
    currency of cents), annual rates of 0.01 % to 60 % in basis points, 1 to 60 months."""
    _check_against_numpy_financial(D(units).scaleb(-exponent), rate, count, exponent)


def test_an_interest_of_exactly_half_a_cent_rounds_up() -> None:
    """The documented tie rule, which the hypothesis tests may or may not draw: 100.00 at
    0.06 % a year is 100 × 0.0006 / 12 = 0.005 exactly, half-up 0.01 (half-even: 0.00)."""
    rows = french_schedule(
        D("100.00"), annual_rate=D("0.0006"), count=1, first_due=FIRST, exponent=2
    )
    assert (rows[0].interest, rows[0].principal) == (D("0.01"), D("100.00"))
