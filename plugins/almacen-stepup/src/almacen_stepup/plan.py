"""The ``step_up`` offer type: the minimum upfront today, then monthly instalments that grow
by ``growth`` every ``every`` months, summing exactly to the rest of the balance."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal

from dateutil.relativedelta import relativedelta

from almacen.gateway.amortisation import ScheduledInstalment, monthly_due_dates
from almacen.gateway.money import currency_exponent
from almacen.modules.offers.menu import Facts, Offer, required_upfront, violations
from almacen.modules.offers.policy import Terms

__all__ = ["STEP_UP", "StepUpPlans", "step_up_schedule"]


def step_up_schedule(
    total: Decimal,
    *,
    count: int,
    growth: Decimal,
    every: int,
    first_due: dt.date,
    exponent: int,
) -> list[ScheduledInstalment]:
    """``total`` in ``count`` monthly instalments, each step ``growth`` more than the last
    every ``every`` months; rounded down to the minor unit, the remainder in the last
    instalment (so it is never below the one before it).

    :raises ValueError: on a non-positive total, count or step, or a negative growth.
    """
    if total <= 0 or count < 1 or every < 1 or growth < 0:
        raise ValueError("total, count and every must be positive and growth not negative")
    quantum = Decimal(1).scaleb(-exponent)
    weights = [(1 + growth) ** (i // every) for i in range(count)]
    base = total / sum(weights, Decimal(0))
    # Rounded down, so that the last instalment (what remains) is never below the one before.
    amounts = [(base * weight).quantize(quantum, rounding=ROUND_DOWN) for weight in weights]
    amounts[-1] = total - sum(amounts[:-1], Decimal(0))
    dates = monthly_due_dates(first_due, count)
    return [
        ScheduledInstalment(number, due_on, amount, Decimal(0))
        for number, (due_on, amount) in enumerate(zip(dates, amounts, strict=True), start=1)
    ]


@dataclasses.dataclass
class StepUpPlans:
    """One step-up plan per instalment count the policy allows (two or more)."""

    name: str = "step_up"
    growth: Decimal = Decimal("0.10")
    every: int = 3

    def offers(self, terms: Terms, facts: Facts, today: dt.date) -> Iterable[Offer]:
        """Step-up plans within ``terms``; a count that would break a bound is left out."""
        owed = facts.balance.amount
        if owed <= 0:
            return []
        exponent = currency_exponent(facts.balance.currency)
        upfront = required_upfront(terms, facts.balance)
        rest = owed - upfront
        if rest <= 0:
            return []
        head = (ScheduledInstalment(0, today, upfront, Decimal(0)),) if upfront > 0 else ()
        made = []
        for count in terms.instalment_counts:
            if count < 2 or count > terms.max_term_months:
                continue
            rows = step_up_schedule(
                rest,
                count=count,
                growth=self.growth,
                every=self.every,
                first_due=today + relativedelta(months=1),
                exponent=exponent,
            )
            offer = Offer(
                kind=self.name,
                label=(
                    f"{count} monthly instalments rising {self.growth * 100:.0f}% "
                    f"every {self.every} months"
                ),
                schedule=(*head, *rows),
            )
            if not violations(offer, terms, facts):
                made.append(offer)
        return made


#: The offer type the plugin registers.
STEP_UP = StepUpPlans()
