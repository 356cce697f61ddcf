"""Exact payment schedules for offers: equal instalments and French amortisation.

The French schedule itself is the gateway's (:mod:`almacen.gateway.amortisation`, the one
the ledger opens accounts with): a schedule quoted here is the one the ledger installs.
This adds interest-free plans and the effective rate a schedule implies.
"""

from __future__ import annotations

import datetime as dt
import math
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


def implied_annual_rate(
    principal: Decimal, amounts: Sequence[Decimal], *, guess: Decimal | None = None
) -> Decimal:
    """The effective annual rate a monthly schedule implies for ``principal`` lent today.

    Solves ``Σ amount_t / (1 + i)^t = principal`` for the monthly rate ``i`` and returns
    ``(1 + i)^12 − 1`` to six places; zero when nothing beyond the principal is paid.
    Newton's method in binary floating point answers first (menus of thousands of accounts
    need it fast); when its answer lies within 1e-12 of a rounding edge of the sixth place,
    where float error could tip it, the exact Decimal bisection decides. ``guess`` (a
    monthly rate near the answer, such as the nominal rate / 12) only saves iterations.
    """
    if sum(amounts, Decimal(0)) <= principal:
        return Decimal("0.000000")
    start = float(guess) if guess is not None and guess > 0 else 0.01
    fast = _newton_annual_rate(float(principal), [float(amount) for amount in amounts], start)
    if fast is not None:
        scaled = fast * 1_000_000
        if abs(scaled - math.floor(scaled) - 0.5) > 1e-6:
            return Decimal(repr(fast)).quantize(_SIX, rounding=ROUND_HALF_UP)
    return implied_annual_rate_exact(principal, amounts)


def _newton_annual_rate(
    principal: float, amounts: Sequence[float], start: float = 0.01
) -> float | None:
    """The annual rate by Newton's method on the monthly rate, or None if it did not settle."""
    rate = start
    for _ in range(50):
        value = 0.0
        slope = 0.0
        factor = 1.0 + rate
        discount = 1.0
        for t, amount in enumerate(amounts, start=1):
            discount /= factor
            value += amount * discount
            slope -= t * amount * discount / factor
        step = (value - principal) / slope
        rate -= step
        if rate <= -0.99:
            return None
        if abs(step) < 1e-15:
            return float((1.0 + rate) ** 12 - 1.0)
    return None


def implied_annual_rate_exact(principal: Decimal, amounts: Sequence[Decimal]) -> Decimal:
    """:func:`implied_annual_rate` by bisection in Decimal (80 halvings): slow and exact."""
    if sum(amounts, Decimal(0)) <= principal:
        return Decimal("0.000000")
    with localcontext() as context:
        context.prec = 30

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
        return annual.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
