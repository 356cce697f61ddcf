"""Exact payment schedules for offers: equal instalments and French amortisation.

The French schedule itself is the gateway's (:mod:`almacen.gateway.amortisation`, the one
the ledger opens accounts with): a schedule quoted here is the one the ledger installs.
This adds interest-free plans and the effective rate a schedule implies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext

from almacen.gateway.amortisation import ScheduledInstalment as Instalment
from almacen.gateway.amortisation import french_schedule, monthly_due_dates

__all__ = [
    "Instalment",
    "equal_schedule",
    "french_schedule",
    "implied_annual_rate",
    "implied_annual_rate_exact",
    "monthly_due_dates",
    "quantum",
]


def quantum(exponent: int) -> Decimal:
    """The currency's minor unit (``0.01`` for exponent 2)."""
    return Decimal(1).scaleb(-exponent)


def equal_schedule(
    total: Decimal, *, count: int, first_due: dt.date, exponent: int
) -> list[Instalment]:
    """``total`` in ``count`` interest-free monthly instalments, the remainder in the last.

    :raises ValueError: on a non-positive total or count.
    """
    return french_schedule(
        total, annual_rate=Decimal(0), count=count, first_due=first_due, exponent=exponent
    )


_SIX = Decimal("0.000001")
#: Working precision: far beyond the sixth place the rate is disclosed to.
_PRECISION = 30
_CONVERGED = Decimal("1e-24")


def implied_annual_rate(
    principal: Decimal, amounts: Sequence[Decimal], *, guess: Decimal | None = None
) -> Decimal:
    """The effective annual rate a monthly schedule implies for ``principal`` lent today.

    Solves ``Σ amount_t / (1 + i)^t = principal`` for the monthly rate ``i`` and returns
    ``(1 + i)^12 − 1`` to six places; zero when nothing beyond the principal is paid.
    Newton's method in Decimal settles in a handful of steps (menus of thousands of accounts
    need it fast); if it does not, the bisection of :func:`implied_annual_rate_exact`
    decides. ``guess`` (a monthly rate near the answer, such as the nominal rate / 12) only
    saves iterations.
    """
    if sum(amounts, Decimal(0)) <= principal:
        return Decimal("0.000000")
    with localcontext() as context:
        context.prec = _PRECISION
        rate = guess if guess is not None and guess > 0 else Decimal("0.01")
        for _ in range(50):
            step = _newton_step(principal, amounts, rate)
            rate -= step
            if rate <= Decimal("-0.99"):
                break
            if abs(step) < _CONVERGED:
                annual = (1 + rate) ** 12 - 1
                return annual.quantize(_SIX, rounding=ROUND_HALF_UP)
    return implied_annual_rate_exact(principal, amounts)


def _newton_step(principal: Decimal, amounts: Sequence[Decimal], rate: Decimal) -> Decimal:
    """``f(rate) / f'(rate)`` for ``f(i) = Σ amount_t (1 + i)^−t − principal``."""
    shrink = 1 / (1 + rate)
    discount = Decimal(1)
    value = -principal
    slope = Decimal(0)
    for t, amount in enumerate(amounts, start=1):
        discount *= shrink
        value += amount * discount
        slope -= t * amount * discount
    return value / (slope * shrink)


def implied_annual_rate_exact(principal: Decimal, amounts: Sequence[Decimal]) -> Decimal:
    """:func:`implied_annual_rate` by bisection in Decimal (80 halvings): slow, and sure."""
    if sum(amounts, Decimal(0)) <= principal:
        return Decimal("0.000000")
    with localcontext() as context:
        context.prec = _PRECISION

        def value(rate: Decimal) -> Decimal:
            factor = 1 + rate
            return sum(
                (amount / factor**t for t, amount in enumerate(amounts, start=1)), Decimal(0)
            )

        low, high = Decimal(0), Decimal(1)
        while value(high) > principal:
            high *= 2
        for _ in range(80):
            middle = (low + high) / 2
            if value(middle) > principal:
                low = middle
            else:
                high = middle
        annual = (1 + (low + high) / 2) ** 12 - 1
        return annual.quantize(_SIX, rounding=ROUND_HALF_UP)
