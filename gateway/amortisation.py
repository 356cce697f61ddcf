"""French (fixed-instalment) amortisation schedules, exact to the currency's minor unit.

Shared by the modules that make schedules (the ledger opens accounts and installs plans with
it, offers quote plans and refinancing), as money is: one rule, written once.

``A = P·r / (1 − (1 + r)^−n)`` with ``r`` the periodic rate. Each instalment's interest is
the outstanding principal times ``r``, rounded half-up to the currency's exponent; the last
instalment takes whatever principal remains, so the schedule sums exactly to ``P``.
Worked example (DOMAIN.md): 1,000.00 at 12 % a year over 12 months → eleven instalments of
88.85 and a last of 88.84; total interest 66.19.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from decimal import ROUND_HALF_UP, Decimal, localcontext

from dateutil.relativedelta import relativedelta

__all__ = ["ScheduledInstalment", "french_schedule", "monthly_due_dates"]


@dataclasses.dataclass(frozen=True, slots=True)
class ScheduledInstalment:
    """One row of a schedule."""

    number: int
    due_on: dt.date
    principal: Decimal
    interest: Decimal

    @property
    def amount(self) -> Decimal:
        """What the debtor pays on ``due_on``."""
        return self.principal + self.interest


def monthly_due_dates(first: dt.date, count: int) -> list[dt.date]:
    """``count`` monthly dates from ``first``, keeping its day of month where it exists
    (a 31st falls on the last day of shorter months)."""
    return list(_monthly_due_dates(first, count))


@functools.lru_cache(maxsize=1024)
def _monthly_due_dates(first: dt.date, count: int) -> tuple[dt.date, ...]:
    # Schedules made the same day share their dates (an offer menu batch makes tens of
    # thousands): computed once. Dates are immutable, so the cache is exact.
    return tuple(first + relativedelta(months=offset) for offset in range(count))


def french_schedule(
    principal: Decimal,
    *,
    annual_rate: Decimal,
    count: int,
    first_due: dt.date,
    exponent: int,
    periods_per_year: int = 12,
) -> list[ScheduledInstalment]:
    """A fixed-instalment schedule of ``count`` monthly instalments.

    :param principal: amount lent, a Decimal with at most ``exponent`` decimals.
    :param annual_rate: nominal annual rate as a fraction (``Decimal("0.12")``).
    :param exponent: the currency's minor-unit exponent (ISO 4217).
    :raises ValueError: on a non-positive principal or count, or a negative rate.
    """
    if principal <= 0:
        raise ValueError("principal must be positive")
    if count < 1:
        raise ValueError("count must be at least 1")
    if annual_rate < 0:
        raise ValueError("annual_rate must not be negative")
    quantum = Decimal(1).scaleb(-exponent)
    with localcontext() as context:
        context.prec = 40
        rate = annual_rate / periods_per_year
        if rate == 0:
            payment = principal / count
        else:
            payment = principal * rate / (1 - (1 + rate) ** -count)
        payment = payment.quantize(quantum, rounding=ROUND_HALF_UP)
        rows = []
        outstanding = principal
        for number, due_on in enumerate(monthly_due_dates(first_due, count), start=1):
            # Multiplied before dividing: rate itself is rounded (0.25 / 12 = 0.0208333…), and
            # an interest of exactly half a cent (270.00 × 0.25 / 12 = 5.625) must round up.
            interest = (outstanding * annual_rate / periods_per_year).quantize(
                quantum, rounding=ROUND_HALF_UP
            )
            # The last instalment absorbs every rounding remainder.
            part = outstanding if number == count else min(payment - interest, outstanding)
            rows.append(ScheduledInstalment(number, due_on, part, interest))
            outstanding -= part
    return rows
