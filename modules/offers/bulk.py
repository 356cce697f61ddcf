"""The built-in offers of many accounts, summarised, at a fraction of the cost of one menu each.

:func:`~.menu.build_menu` builds every offer's dated schedule as objects, checks it against
the policy and ranks it: about a millisecond per account. A batch of ten thousand accounts
needs only each offer's figures (upfront, first instalment, total, discount, effective rate,
expected recovery, approval), so :func:`bulk_summaries` computes those directly, doing the
*same* Decimal operations in the same order as the one-account path, so the figures are
identical, not close:

- the French payment and each month's interest exactly as
  :func:`almacen.gateway.amortisation.french_schedule` (40 digits, half-up to the minor
  unit, the remainder in the last instalment), with the divisor shared per (rate, count)
  and due dates per (today, count);
- the bounds :func:`~.menu.violations` checks, on the amounts alone;
- expected recovery, discount and effective rate by the functions the menu uses.

Tests hold the two paths equal for random policies and balances. Plugins' offer types and
anything else account-specific go through :func:`~.menu.build_menu` (the batch decides).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, localcontext

from almacen.gateway.amortisation import monthly_due_dates
from almacen.gateway.money import Money

from .amortisation import implied_annual_rate, quantum
from .menu import (
    Facts,
    MenuItem,
    Offer,
    OfferType,
    _discount_factor,
    _next_month,
    expected_recovery,
    on_business_days,
    violations,
)
from .policy import Terms

__all__ = ["Summary", "bulk_summaries", "summaries_of", "summarise"]

_FOUR = Decimal("0.0001")
_ZERO = Decimal(0)


@dataclasses.dataclass(frozen=True, slots=True)
class Summary:
    """One ranked offer without its schedule: what a batch lists."""

    rank: int
    kind: str
    label: str
    discount: Decimal
    forgiven: Decimal
    upfront: Decimal
    instalment: Decimal | None
    term_months: int
    effective_annual_rate: Decimal | None
    total: Decimal
    expires_on: dt.date
    requires_approval: bool
    expected_recovery: Money


def summarise(item: MenuItem) -> Summary:
    """The summary of a ranked offer of :func:`~.menu.build_menu`."""
    offer = item.offer
    monthly = offer.instalments
    return Summary(
        rank=item.rank,
        kind=offer.kind,
        label=offer.label,
        discount=item.discount,
        forgiven=offer.forgiven,
        upfront=offer.upfront,
        instalment=offer.amounts[len(offer.schedule) - len(monthly)] if monthly else None,
        term_months=item.term_months,
        effective_annual_rate=item.effective_annual_rate,
        total=offer.total,
        expires_on=item.expires_on,
        requires_approval=item.requires_approval,
        expected_recovery=item.expected_recovery,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class _Candidate:
    kind: str
    label: str
    upfront: Decimal
    monthly: tuple[Decimal, ...]
    principal: Decimal
    forgiven: Decimal
    #: The principal the monthly instalments repay (the effective rate is of it).
    lent: Decimal


@functools.lru_cache(maxsize=256)
def _divisor(annual_rate: Decimal, count: int) -> tuple[Decimal, Decimal]:
    # french_schedule's rate and ``1 − (1 + r)^−n``, in its 40-digit context.
    with localcontext() as context:
        context.prec = 40
        rate = annual_rate / 12
        return rate, 1 - (1 + rate) ** -count


def _french(rest: Decimal, annual_rate: Decimal, count: int, step: Decimal) -> list[Decimal]:
    """The instalment amounts of ``french_schedule(rest, …)``, by the same operations."""
    rate, divisor = _divisor(annual_rate, count)
    amounts = []
    with localcontext() as context:
        context.prec = 40
        exact = rest / count if rate == 0 else rest * rate / divisor
        payment = exact.quantize(step, rounding=ROUND_HALF_UP)
        if rate == 0 and payment * (count - 1) <= rest:
            # No interest and no row capped by what is left: equal rows, the rest last.
            return [payment] * (count - 1) + [rest - payment * (count - 1)]
        outstanding = rest
        for number in range(1, count + 1):
            interest = (outstanding * annual_rate / 12).quantize(step, rounding=ROUND_HALF_UP)
            part = outstanding if number == count else min(payment - interest, outstanding)
            amounts.append(part + interest)
            outstanding -= part
    return amounts


@functools.lru_cache(maxsize=256)
def _dates(
    today: dt.date, count: int, roll: Callable[[dt.date], dt.date] | None
) -> tuple[dt.date, ...]:
    dates = monthly_due_dates(_next_month(today), count)
    return tuple(roll(day) for day in dates) if roll is not None else tuple(dates)


def _candidates(terms: Terms, owed: Decimal, upfront: Decimal, step: Decimal) -> list[_Candidate]:
    """The built-in offers of :func:`~.menu.builtin_offers`, as amounts, in its order."""
    found: list[_Candidate] = []
    in_full = max(
        (owed * (1 - terms.pay_in_full_discount)).quantize(step, rounding=ROUND_CEILING), upfront
    )
    found.append(
        _Candidate("pay_in_full", "Pay in full today", in_full, (), in_full, owed - in_full, _ZERO)
    )
    settle = max((owed * (1 - terms.max_discount)).quantize(step, rounding=ROUND_CEILING), upfront)
    if settle < in_full:
        found.append(
            _Candidate(
                "settlement", "Settle today for less", settle, (), settle, owed - settle, _ZERO
            )
        )
    rest = owed - upfront
    if rest <= 0:
        return found
    for count in terms.instalment_counts:
        if count > terms.max_term_months:
            continue
        plan = _french(rest, _ZERO, count, step)
        found.append(
            _Candidate(
                "plan", f"{count} monthly instalments", upfront, tuple(plan), owed, _ZERO, rest
            )
        )
        if terms.refinancing_rate > 0:
            loan = _french(rest, terms.refinancing_rate, count, step)
            found.append(
                _Candidate(
                    "refinancing",
                    f"Refinanced over {count} months",
                    upfront,
                    tuple(loan),
                    owed,
                    _ZERO,
                    rest,
                )
            )
    return found


def _keeps_bounds(
    offer: _Candidate, terms: Terms, owed: Decimal, required: Decimal, step: Decimal
) -> bool:
    """:func:`~.menu.violations` is empty, checked on the amounts (built-in kinds only)."""
    monthly = offer.monthly
    if monthly and (
        len(monthly) > terms.max_term_months
        or min(monthly) < terms.min_instalment.amount
        or min(monthly) <= 0
        or (offer.kind in ("plan", "refinancing") and len(monthly) not in terms.instalment_counts)
    ):
        return False
    # Every amount is a sum of amounts on the minor unit when the balance and the upfront
    # are (checked once per account by the caller), so no amount has more decimals.
    return (
        offer.principal + offer.forgiven == owed
        and 0 <= offer.forgiven <= owed * terms.max_discount
        and offer.upfront >= required
        and (offer.upfront > 0 or bool(monthly))
    )


def bulk_summaries(
    terms: Terms,
    balance: Money,
    *,
    required: Decimal,
    exponent: int,
    today: dt.date,
    propensity: Decimal,
    discount_rate: Decimal,
    business_day: Callable[[dt.date], dt.date] | None = None,
    extras: Sequence[Offer] = (),
    top: int | None = None,
) -> list[Summary]:
    """The ranked offers of one account, summarised: what ``build_menu`` gives, figure for
    figure.

    :param required: :func:`~.menu.required_upfront` of the account.
    :param extras: the plugins' offers for the account, within bounds and on the due dates
        the menu would give them (see :func:`plugin_offers`).
    :param top: only the best ``top`` (all when None). Every offer's expected recovery is
        needed to rank; the effective rate (an iteration) only for those listed.
    """
    owed = balance.amount
    if owed <= 0:
        return []
    step = quantum(exponent)
    if owed != owed.quantize(step) or required != required.quantize(step):
        raise ValueError(f"amounts must be whole minor units of {balance.currency}")
    expires_on = today + dt.timedelta(days=terms.validity_days)
    scored = []
    for offer in _candidates(terms, owed, required, step):
        if not _keeps_bounds(offer, terms, owed, required, step):
            continue
        monthly = offer.monthly
        # expected_recovery, row by row in schedule order (today's payment first).
        total = _ZERO
        if offer.upfront > 0 or not monthly:
            total += offer.upfront / _discount_factor(discount_rate, today, today)
        if monthly:
            dates = _dates(today, len(monthly), business_day)
            for due_on, amount in zip(dates, monthly, strict=True):
                total += amount / _discount_factor(discount_rate, due_on, today)
        guess = terms.refinancing_rate / 12 if offer.kind == "refinancing" else None
        scored.append((propensity * total, offer, guess))
    for extra in extras:
        offer = _Candidate(
            extra.kind,
            extra.label,
            extra.upfront,
            tuple(extra.amounts[len(extra.schedule) - len(extra.instalments) :]),
            extra.principal,
            extra.forgiven,
            sum((row.principal for row in extra.instalments), _ZERO),
        )
        value = expected_recovery(
            extra, propensity=propensity, discount_rate=discount_rate, today=today
        )
        scored.append((value, offer, None))
    scored.sort(key=lambda item: -item[0])
    return [
        Summary(
            rank=rank,
            kind=offer.kind,
            label=offer.label,
            discount=(offer.forgiven / owed).quantize(_FOUR, rounding=ROUND_HALF_UP),
            forgiven=offer.forgiven,
            upfront=offer.upfront,
            instalment=offer.monthly[0] if offer.monthly else None,
            term_months=len(offer.monthly),
            effective_annual_rate=_rate(offer, guess),
            total=offer.upfront + sum(offer.monthly, _ZERO),
            expires_on=expires_on,
            requires_approval=_needs(offer, terms, owed),
            expected_recovery=Money(value.quantize(step), balance.currency),
        )
        for rank, (value, offer, guess) in enumerate(scored[:top], start=1)
    ]


def _rate(offer: _Candidate, guess: Decimal | None) -> Decimal | None:
    if not offer.monthly:
        return None
    return implied_annual_rate(offer.lent, offer.monthly, guess=guess)


def _needs(offer: _Candidate, terms: Terms, owed: Decimal) -> bool:
    """Whether the offer needs a person's approval (the menu's approval thresholds)."""
    above = terms.approval_discount_above
    longest = terms.approval_term_above_months
    return (above is not None and offer.forgiven > owed * above) or (
        longest is not None and len(offer.monthly) > longest
    )


def plugin_offers(
    types: Sequence[OfferType],
    terms: Terms,
    facts: Facts,
    *,
    today: dt.date,
    business_day: Callable[[dt.date], dt.date] | None = None,
) -> list[Offer]:
    """The plugins' offers for the account as :func:`~.menu.build_menu` keeps them: within
    bounds, due dates moved to business days."""
    found = [
        offer
        for kind in types
        for offer in kind.offers(terms, facts, today)
        if not violations(offer, terms, facts)
    ]
    if business_day is not None:
        found = [on_business_days(offer, business_day) for offer in found]
    return found


def summaries_of(items: Sequence[MenuItem]) -> list[Summary]:
    """Summaries of a whole menu of :func:`~.menu.build_menu`."""
    return [summarise(item) for item in items]
