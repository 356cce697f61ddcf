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


def implied_annual_rate(principal: Decimal, amounts: Sequence[Decimal]) -> Decimal:
    """The effective annual rate a monthly schedule implies for ``principal`` lent today.

    Solves ``Σ amount_t / (1 + i)^t = principal`` for the monthly rate ``i`` (bisection, in
    Decimal) and returns ``(1 + i)^12 − 1`` to six places. Zero when nothing beyond the
    principal is paid.
    """
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
