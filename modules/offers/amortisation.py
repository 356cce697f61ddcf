"""Exact payment schedules for offers: equal instalments and French amortisation.

The ledger has a French schedule of its own, but modules never import each other's code
(they meet through actions), so the offers module keeps this small, pure one. Both follow
the same rule: ``A = P·r / (1 − (1 + r)^−n)`` rounded half-up to the currency's minor unit,
each instalment's interest the outstanding principal times ``r`` (rounded half-up), and the
last instalment takes whatever is left, so a schedule sums exactly to what it promises.
Worked example: 1,000.00 at 12 % a year over 12 months → eleven of 88.85 and a last of 88.84.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext

from dateutil.relativedelta import relativedelta

__all__ = [
    "Instalment",
    "equal_schedule",
    "french_schedule",
    "implied_annual_rate",
    "monthly_due_dates",
    "quantum",
]


@dataclasses.dataclass(frozen=True, slots=True)
class Instalment:
    """One payment of a schedule: ``principal + interest`` due on ``due_on``.

    ``number`` 0 is an upfront payment due on the day the offer is made.
    """

    number: int
    due_on: dt.date
    principal: Decimal
    interest: Decimal

    @property
    def amount(self) -> Decimal:
        """What the debtor pays on ``due_on``."""
        return self.principal + self.interest


def quantum(exponent: int) -> Decimal:
    """The currency's minor unit (``0.01`` for exponent 2)."""
    return Decimal(1).scaleb(-exponent)


def monthly_due_dates(first: dt.date, count: int) -> list[dt.date]:
    """``count`` monthly dates from ``first``, keeping its day of month where it exists."""
    return [first + relativedelta(months=offset) for offset in range(count)]


def equal_schedule(
    total: Decimal, *, count: int, first_due: dt.date, exponent: int
) -> list[Instalment]:
    """``total`` in ``count`` interest-free monthly instalments, the remainder in the last.

    :raises ValueError: on a non-positive total or count.
    """
    return french_schedule(
        total, annual_rate=Decimal(0), count=count, first_due=first_due, exponent=exponent
    )


def french_schedule(
    principal: Decimal,
    *,
    annual_rate: Decimal,
    count: int,
    first_due: dt.date,
    exponent: int,
) -> list[Instalment]:
    """A fixed-instalment (French) schedule of ``count`` monthly instalments.

    :param annual_rate: nominal annual rate as a fraction (``Decimal("0.12")``), compounded
        monthly.
    :raises ValueError: on a non-positive principal or count, or a negative rate.
    """
    if principal <= 0:
        raise ValueError("principal must be positive")
    if count < 1:
        raise ValueError("count must be at least 1")
    if annual_rate < 0:
        raise ValueError("annual_rate must not be negative")
    step = quantum(exponent)
    with localcontext() as context:
        context.prec = 40
        rate = annual_rate / 12
        payment = principal / count if rate == 0 else principal * rate / (1 - (1 + rate) ** -count)
        payment = payment.quantize(step, rounding=ROUND_HALF_UP)
        rows: list[Instalment] = []
        outstanding = principal
        for number, due_on in enumerate(monthly_due_dates(first_due, count), start=1):
            interest = (outstanding * rate).quantize(step, rounding=ROUND_HALF_UP)
            # The last instalment absorbs every rounding remainder.
            part = outstanding if number == count else min(payment - interest, outstanding)
            rows.append(Instalment(number, due_on, part, interest))
            outstanding -= part
    return rows


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
