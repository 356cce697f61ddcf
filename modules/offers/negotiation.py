"""Negotiation: answer a debtor's counter with the best offer within policy that meets it.

A counter is "I can pay ``monthly`` a month" or "I can pay ``upfront`` now", on an account
or on an offer already made. The answer is always an offer of the account's menu, stored
and recorded like any other, with a ``reason`` in words:

* ``monthly``: of the plans whose every instalment is at most ``monthly``, the shortest;
  of equally short ones, the best expected recovery (the menu's rank). None fits: the plan
  with the smallest instalment, the closest the policy allows, and why (below the minimum
  instalment, or a term beyond the maximum).
* ``upfront``: the largest lump sum at most ``upfront`` — paying in full when it covers
  that, else a settlement of exactly ``upfront`` when its discount is within policy. None
  fits: the lowest settlement the policy allows, and why.

A counter on an offer moves that offer to ``countered`` (an expired or closed one is a
409), so the record holds the counter, the offer it answered and the answer. A disputed
account is refused: nothing is negotiated while a dispute is open.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy.orm import Session

from almacen.gateway.errors import ConflictError, UnprocessableError
from almacen.gateway.money import Money

from .amortisation import Instalment
from .lifecycle import ACCEPTABLE, get_offer, refuse_if_disputed, store, transition
from .menu import Facts, MenuItem, Offer
from .offer_tables import StoredOffer
from .policy import Terms
from .service import Menu, menu_for

__all__ = ["CounterAnswer", "counter"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class CounterAnswer:
    """The stored answer to a counter, whether it meets the counter and why."""

    met: bool
    reason: str
    counter: dict[str, Any]
    countered_offer_id: str | None
    offer: StoredOffer


class _DebtorLump:
    """An offer type for one negotiation: a settlement of exactly what the debtor offers.

    The menu drops it when its discount breaks the policy, like any offer type's.
    """

    name = "counter_settlement"

    def __init__(self, amount: Decimal) -> None:
        self.amount = amount

    def offers(self, terms: Terms, facts: Facts, today: dt.date) -> Iterable[Offer]:
        """One lump sum of ``amount`` today, the rest of the balance forgiven."""
        owed = facts.balance.amount
        if not 0 < self.amount < owed:
            return []
        return [
            Offer(
                kind="settlement",
                label=f"Settle today for {self.amount} {facts.balance.currency}",
                schedule=(Instalment(0, today, self.amount, Decimal(0)),),
                forgiven=owed - self.amount,
            )
        ]


def _largest_instalment(item: MenuItem) -> Decimal:
    return max(row.amount for row in item.offer.instalments)


def _text(amount: Decimal, currency: str) -> str:
    return f"{Money.rounded(amount, currency).as_json()['amount']} {currency}"


def _monthly(menu: Menu, monthly: Decimal) -> tuple[MenuItem, bool, str]:
    currency = menu.facts.balance.currency
    plans = [item for item in menu.items if item.offer.instalments]
    if not plans:
        raise ConflictError(
            "The policy allows no instalment plan for this balance; only a lump sum."
        )
    fits = [item for item in plans if _largest_instalment(item) <= monthly]
    if fits:
        # The shortest term that fits; of those, the best expected recovery (menu rank).
        best = min(fits, key=lambda item: (item.term_months, item.rank))
        return (
            best,
            True,
            f"{best.offer.label}: every instalment is at most {_text(monthly, currency)}; "
            "the shortest term that fits, with the best expected recovery of its length",
        )
    closest = min(plans, key=lambda item: (_largest_instalment(item), item.rank))
    terms = menu.terms
    smallest = _text(_largest_instalment(closest), currency)
    alternative = f"the closest allowed is {closest.offer.label} of at most {smallest}"
    if monthly < terms.min_instalment.amount:
        why = (
            f"{_text(monthly, currency)} a month is below the minimum instalment "
            f"{_text(terms.min_instalment.amount, currency)}"
        )
    else:
        rest = menu.facts.balance.amount - closest.offer.upfront
        needed = int((rest / monthly).to_integral_value(rounding=ROUND_CEILING))
        why = (
            f"{_text(monthly, currency)} a month would take {needed} months, beyond the "
            f"longest term allowed ({max(closest.term_months, 1)} of at most "
            f"{terms.max_term_months} months)"
        )
    return closest, False, f"{why}; {alternative}"


def _upfront(menu: Menu, upfront: Decimal) -> tuple[MenuItem, bool, str]:
    currency = menu.facts.balance.currency
    lumps = [item for item in menu.items if not item.offer.instalments]
    if not lumps:
        raise ConflictError("The policy allows no lump sum for this balance.")
    fits = [item for item in lumps if item.offer.total <= upfront]
    if fits:
        best = max(fits, key=lambda item: (item.offer.total, item.offer.kind == "pay_in_full"))
        if best.offer.kind == "pay_in_full":
            why = f"{_text(upfront, currency)} covers paying in full today"
        else:
            why = (
                f"a settlement of {_text(best.offer.total, currency)} today is within the "
                f"maximum discount {menu.terms.max_discount}"
            )
        return best, True, why
    closest = min(lumps, key=lambda item: (item.offer.total, item.rank))
    return (
        closest,
        False,
        f"{_text(upfront, currency)} now is below the lowest settlement the policy allows "
        f"({_text(closest.offer.total, currency)}, a discount of at most "
        f"{menu.terms.max_discount}); the closest allowed is {closest.offer.label}",
    )


def counter(session: Session, data: Mapping[str, Any], *, today: dt.date) -> CounterAnswer:
    """Answer the counter ``data`` (see the module docstring) and record it.

    :raises ConflictError: the countered offer expired or is closed; the account is
        disputed; the policy allows nothing of the kind countered.
    :raises UnprocessableError: the counter is in another currency than the account.
    :raises NotFoundError: no such account or offer for the tenant.
    """
    monthly: Money | None = data.get("monthly")
    upfront: Money | None = data.get("upfront")
    amount = monthly or upfront
    assert amount is not None  # the schema requires one
    countered: StoredOffer | None = None
    account_id = data.get("account_id")
    if data.get("offer_id") is not None:
        countered = get_offer(session, data["offer_id"], lock=True)
        if account_id is not None and account_id != countered.account_id:
            raise UnprocessableError(
                "The offer is not of that account.",
                errors=[{"pointer": "/offer_id", "detail": "not an offer of account_id"}],
            )
        account_id = countered.account_id
        if countered.status == "expired" or today > countered.expires_on:
            raise ConflictError(
                f"offer {countered.id} expired on {countered.expires_on}; ask for a new menu"
            )
        if countered.status not in ACCEPTABLE:
            raise ConflictError(f"offer {countered.id} is {countered.status}; it is closed")
    assert account_id is not None  # the schema requires account_id or offer_id
    refuse_if_disputed(session, account_id)
    extra = [_DebtorLump(upfront.amount)] if upfront is not None else []
    menu = menu_for(
        session,
        {"account_id": account_id, "segment": data.get("segment"), "score": data.get("score")},
        today=today,
        extra_types=extra,
    )
    currency = menu.facts.balance.currency
    if amount.currency != currency:
        field = "monthly" if monthly is not None else "upfront"
        raise UnprocessableError(
            f"The counter is in {amount.currency}; the account in {currency}.",
            errors=[{"pointer": f"/{field}/currency", "detail": "not the account's currency"}],
        )
    if monthly is not None:
        item, met, reason = _monthly(menu, monthly.amount)
        said = {"monthly": monthly.as_json()}
    else:
        assert upfront is not None
        item, met, reason = _upfront(menu, upfront.amount)
        said = {"upfront": upfront.as_json()}
    record = {**said, "in_reply_to": countered.id if countered else None}
    words = f"{amount.as_json()['amount']} {currency} " + (
        "a month" if monthly is not None else "now"
    )
    answer = store(
        session,
        menu,
        item,
        counter=record,
        reason=reason,
        note=f"answer to the counter: I can pay {words}",
    )
    if countered is not None:
        transition(
            session, countered, "countered", f"I can pay {words}; answered by offer {answer.id}"
        )
    return CounterAnswer(
        met=met,
        reason=reason,
        counter=record,
        countered_offer_id=countered.id if countered else None,
        offer=answer,
    )
