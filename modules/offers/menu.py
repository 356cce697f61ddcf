"""The offer menu of one account: every offer its policy rule allows, ranked by expected
recovery.

Built-in offers: ``pay_in_full`` (the whole balance today, less the rule's pay-in-full
discount), ``settlement`` (a lump sum today at the maximum discount, never below the minimum
upfront), ``plan`` (the minimum upfront today, then the rest in equal interest-free monthly
instalments, one offer per allowed count) and ``refinancing`` (the minimum upfront, then the
rest amortised the French way at the rule's rate). Plugins add offer types through the
``almacen_offers_offer_types`` hook; an offer of theirs that breaks a bound is dropped.

Expected recovery is a simple model: each payment is made with probability ``p`` (the
account's propensity to pay), independently of its size, and discounted monthly at the
tenant's ``discount_rate``: ``Σ p·amount_t / (1 + r/12)^t`` with ``t`` the months from today.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Protocol, runtime_checkable

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from almacen.gateway.money import Money, currency_exponent

from .amortisation import (
    Instalment,
    equal_schedule,
    french_schedule,
    implied_annual_rate,
    quantum,
)
from .policy import Terms

__all__ = [
    "Facts",
    "Offer",
    "OfferType",
    "build_menu",
    "builtin_offers",
    "expected_recovery",
    "offer_types",
    "on_business_days",
    "required_upfront",
    "violations",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Facts:
    """What the menu knows about the account: from the ledger, or given by the caller."""

    balance: Money
    bucket: str | None = None
    days_past_due: int | None = None
    segment: str | None = None
    score: int | None = None
    account_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Offer:
    """One offer: its exact schedule and what it promises.

    ``forgiven`` is the part of the balance the debtor will not pay (the discount in money);
    the schedule's principal plus ``forgiven`` is always the balance.
    """

    kind: str
    label: str
    schedule: tuple[Instalment, ...]
    forgiven: Decimal = Decimal(0)
    annual_rate: Decimal = Decimal(0)

    #: What each row asks for (principal and interest), in order.
    amounts: tuple[Decimal, ...] = dataclasses.field(init=False, repr=False, compare=False)
    #: The part of the balance the schedule repays.
    principal: Decimal = dataclasses.field(init=False, repr=False, compare=False)
    #: What the debtor pays in all (principal and interest).
    total: Decimal = dataclasses.field(init=False, repr=False, compare=False)
    #: What is due today (instalment number 0), zero when nothing is.
    upfront: Decimal = dataclasses.field(init=False, repr=False, compare=False)
    #: The monthly instalments (everything but the upfront payment).
    instalments: tuple[Instalment, ...] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Computed once, eagerly: a menu batch reads them for every offer of every account.
        amounts = tuple(row.principal + row.interest for row in self.schedule)
        zero = Decimal(0)
        upfront = sum(
            (a for row, a in zip(self.schedule, amounts, strict=True) if row.number == 0), zero
        )
        facts = {
            "amounts": amounts,
            "principal": sum((row.principal for row in self.schedule), zero),
            "total": sum(amounts, zero),
            "upfront": upfront,
            "instalments": tuple(row for row in self.schedule if row.number > 0),
        }
        for name, value in facts.items():
            object.__setattr__(self, name, value)


@runtime_checkable
class OfferType(Protocol):
    """A kind of offer a plugin adds: ``offers`` proposes zero or more for an account."""

    #: The ``kind`` of the offers it makes (unique; built-in kinds cannot be taken).
    name: str

    def offers(self, terms: Terms, facts: Facts, today: dt.date) -> Iterable[Offer]:
        """Offers within ``terms`` for the account; those breaking a bound are dropped."""
        ...


BUILTIN_KINDS = ("pay_in_full", "settlement", "plan", "refinancing")


def _ceil(amount: Decimal, exponent: int) -> Decimal:
    return amount.quantize(quantum(exponent), rounding=ROUND_CEILING)


def required_upfront(terms: Terms, balance: Money) -> Decimal:
    """The smallest payment due today the rule allows: the larger of its fraction of the
    balance (rounded up) and its amount, never more than the balance."""
    step = _step(balance.currency)
    wanted = (balance.amount * terms.min_upfront).quantize(step, rounding=ROUND_CEILING)
    if terms.min_upfront_amount is not None:
        wanted = max(wanted, terms.min_upfront_amount.amount)
    return min(wanted, balance.amount)


def _lump(kind: str, label: str, amount: Decimal, balance: Decimal, today: dt.date) -> Offer:
    return Offer(
        kind=kind,
        label=label,
        schedule=(Instalment(0, today, amount, Decimal(0)),),
        forgiven=balance - amount,
    )


def builtin_offers(terms: Terms, facts: Facts, today: dt.date) -> list[Offer]:
    """The built-in offers the rule allows for the account (see the module docstring)."""
    balance = facts.balance
    if balance.amount <= 0:
        return []
    exponent = currency_exponent(balance.currency)
    owed = balance.amount
    upfront = required_upfront(terms, balance)
    found: list[Offer] = []
    in_full = max(_ceil(owed * (1 - terms.pay_in_full_discount), exponent), upfront)
    found.append(_lump("pay_in_full", "Pay in full today", in_full, owed, today))
    settle = max(_ceil(owed * (1 - terms.max_discount), exponent), upfront)
    if settle < in_full:
        found.append(_lump("settlement", "Settle today for less", settle, owed, today))
    rest = owed - upfront
    first_due = _next_month(today)
    head = (Instalment(0, today, upfront, Decimal(0)),) if upfront > 0 else ()
    if rest <= 0:
        return found
    for count in terms.instalment_counts:
        if count > terms.max_term_months:
            continue
        plan = equal_schedule(rest, count=count, first_due=first_due, exponent=exponent)
        found.append(
            Offer(kind="plan", label=f"{count} monthly instalments", schedule=(*head, *plan))
        )
        if terms.refinancing_rate > 0:
            loan = french_schedule(
                rest,
                annual_rate=terms.refinancing_rate,
                count=count,
                first_due=first_due,
                exponent=exponent,
            )
            found.append(
                Offer(
                    kind="refinancing",
                    label=f"Refinanced over {count} months",
                    schedule=(*head, *loan),
                    annual_rate=terms.refinancing_rate,
                )
            )
    return [offer for offer in found if not violations(offer, terms, facts)]


@functools.lru_cache(maxsize=64)
def _next_month(today: dt.date) -> dt.date:
    return today + relativedelta(months=1)


def violations(offer: Offer, terms: Terms, facts: Facts) -> list[str]:
    """Every bound of ``terms`` the offer breaks, in words; empty when it keeps them all."""
    faults: list[str] = []
    owed = facts.balance.amount
    if not offer.schedule:
        return ["the offer has no payments"]
    if offer.principal + offer.forgiven != owed:
        faults.append("the schedule's principal and the discount do not add up to the balance")
    if offer.forgiven < 0 or offer.forgiven > owed * terms.max_discount:
        faults.append(f"the discount is above the maximum {terms.max_discount}")
    if offer.upfront < required_upfront(terms, facts.balance):
        faults.append("the upfront payment is below the minimum")
    floor = terms.min_instalment.amount
    step = _step(facts.balance.currency)
    # One pass over the rows (plugins' offers are checked twice per account in a batch).
    below = not_positive = too_precise = False
    for row, amount in zip(offer.schedule, offer.amounts, strict=True):
        if row.number > 0 and amount < floor:
            below = True
        if amount <= 0 or row.principal < 0:
            not_positive = True
        if not too_precise and amount != amount.quantize(step):
            too_precise = True
    instalments = offer.instalments
    if below:
        faults.append(f"an instalment is below the minimum {floor}")
    if not_positive:
        faults.append("a payment is not positive")
    if len(instalments) > terms.max_term_months:
        faults.append(f"the term is above {terms.max_term_months} months")
    if offer.kind in ("plan", "refinancing") and len(instalments) not in (terms.instalment_counts):
        faults.append("the instalment count is not allowed")
    if too_precise:
        faults.append(f"an amount has more decimals than {facts.balance.currency} allows")
    return faults


@functools.lru_cache(maxsize=64)
def _step(currency: str) -> Decimal:
    return quantum(currency_exponent(currency))


def expected_recovery(
    offer: Offer, *, propensity: Decimal, discount_rate: Decimal, today: dt.date
) -> Decimal:
    """``Σ p·amount_t / (1 + r/12)^t``, ``t`` the whole months from today to each due date."""
    total = Decimal(0)
    for row, amount in zip(offer.schedule, offer.amounts, strict=True):
        total += amount / _discount_factor(discount_rate, row.due_on, today)
    return propensity * total


@functools.lru_cache(maxsize=4096)
def _discount_factor(discount_rate: Decimal, due_on: dt.date, today: dt.date) -> Decimal:
    # Every account's schedules share a handful of due dates: a menu batch computes each
    # factor once (Decimal and dates are immutable, so the cache is exact).
    delta = relativedelta(due_on, today)
    months = max(delta.years * 12 + delta.months, 0)
    return (1 + discount_rate / 12) ** months


def offer_types(session: Session | None) -> list[OfferType]:
    """The offer types plugins add (through the session's plugin registry), by name.

    A type that takes a built-in kind or an earlier plugin's name is ignored.
    """
    registry = session.info.get("registry") if session is not None else None
    hook = getattr(registry.hook, "almacen_offers_offer_types", None) if registry else None
    if hook is None:
        return []
    found: dict[str, OfferType] = {}
    for kind in itertools.chain.from_iterable(result for result in hook() if result):
        if kind.name not in BUILTIN_KINDS:
            found.setdefault(kind.name, kind)
    return list(found.values())


def on_business_days(offer: Offer, business_day: Callable[[dt.date], dt.date]) -> Offer:
    """The offer with every monthly due date moved by ``business_day`` (today's payment,
    number 0, stays today)."""
    rows = tuple(
        row if row.number == 0 else dataclasses.replace(row, due_on=business_day(row.due_on))
        for row in offer.schedule
    )
    return dataclasses.replace(offer, schedule=rows)


@dataclasses.dataclass(frozen=True, kw_only=True)
class MenuItem:
    """An offer on the menu, with its disclosures and its rank."""

    rank: int
    offer: Offer
    discount: Decimal
    effective_annual_rate: Decimal | None
    term_months: int
    expires_on: dt.date
    requires_approval: bool
    approval_reasons: tuple[str, ...]
    expected_recovery: Money


def build_menu(
    terms: Terms,
    facts: Facts,
    *,
    today: dt.date,
    propensity: Decimal,
    discount_rate: Decimal,
    extra_types: Sequence[OfferType] = (),
    business_day: Callable[[dt.date], dt.date] | None = None,
) -> list[MenuItem]:
    """Every allowed offer for the account, best expected recovery first.

    ``business_day`` (the tenant's calendar, when it has one) moves each monthly due date
    that is not a business day to the next one; the amounts do not change.
    """
    offers = builtin_offers(terms, facts, today)
    for kind in extra_types:
        offers += [
            offer
            for offer in kind.offers(terms, facts, today)
            if not violations(offer, terms, facts)
        ]
    if business_day is not None:
        offers = [on_business_days(offer, business_day) for offer in offers]
    owed = facts.balance.amount
    expires_on = today + dt.timedelta(days=terms.validity_days)
    scored = []
    for offer in offers:
        value = expected_recovery(
            offer, propensity=propensity, discount_rate=discount_rate, today=today
        )
        discount = (offer.forgiven / owed).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        term = len(offer.instalments)
        reasons = []
        above = terms.approval_discount_above
        if above is not None and offer.forgiven > owed * above:
            reasons.append(f"discount above {above}")
        longest = terms.approval_term_above_months
        if longest is not None and term > longest:
            reasons.append(f"term above {longest} months")
        rate = (
            implied_annual_rate(
                sum((r.principal for r in offer.instalments), Decimal(0)),
                [r.amount for r in offer.instalments],
            )
            if offer.instalments
            else None
        )
        scored.append((value, offer, discount, rate, term, tuple(reasons)))
    scored.sort(key=lambda item: -item[0])
    return [
        MenuItem(
            rank=rank,
            offer=offer,
            discount=discount,
            effective_annual_rate=rate,
            term_months=term,
            expires_on=expires_on,
            requires_approval=bool(reasons),
            approval_reasons=reasons,
            expected_recovery=Money.rounded(value, facts.balance.currency),
        )
        for rank, (value, offer, discount, rate, term, reasons) in enumerate(scored, start=1)
    ]
