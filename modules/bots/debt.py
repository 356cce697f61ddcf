"""The debt, once identity is verified: the balance, promises with their read-back, offers.

Other modules are reached only through actions (``ledger.get_account``,
``ledger.create_promise``, ``offers.propose``/``counter``/``accept``); when the tenant lacks
one, the bot says what it cannot do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from almacen import AlmacenError, emit
from almacen.gateway.money import Money

from . import events
from .turn import TurnContext, TurnResult, about, handover

__all__ = [
    "accept_offer",
    "account_summary",
    "confirm_promise",
    "propose_offer",
    "quote_balance",
    "slot_day",
    "take_promise",
]

#: Channels the ledger records promises under; others record none.
_LEDGER_CHANNELS = frozenset({"sms", "whatsapp", "email", "voice", "letter"})

# -- the debt: balance, promises, offers ------------------------------------------------------


def account_summary(turn: TurnContext) -> dict[str, Any] | None:
    """The account's balances through ``ledger.get_account``; None when unavailable."""
    try:
        summary = turn.call(
            "ledger.get_account", {"account_id": turn.conversation.account_id or ""}
        )
    except AlmacenError:
        return None
    # The ledger's today (the tenant's time zone) decides whether a promise date has passed.
    turn.conversation.slots = {**turn.slots, "as_of": summary.get("as_of")}
    turn.today = max(turn.today, slot_day(summary.get("as_of")) or turn.today)
    return summary


def quote_balance(turn: TurnContext) -> TurnResult:
    """Say the balance and days past due, and ask how the debtor wants to pay."""
    summary = account_summary(turn)
    if summary is None:
        return turn.result("balance_unavailable")
    total = summary["total"]
    turn.conversation.slots = {**turn.slots, "currency": total["currency"]}
    return turn.result(
        "balance",
        total=turn.speaker.money(Decimal(total["amount"]), total["currency"]),
        dpd=summary.get("days_past_due") or 0,
    )


def _currency(turn: TurnContext) -> str | None:
    if turn.slots.get("currency"):
        return str(turn.slots["currency"])
    summary = account_summary(turn)
    if summary is None:
        return None
    currency = str(summary["total"]["currency"])
    turn.conversation.slots = {**turn.slots, "currency": currency}
    return currency


def take_promise(
    turn: TurnContext, amount: Decimal | None, day: dt.date | None, *, event: str = "read_back"
) -> TurnResult:
    """Fill the promise's slots; once both are known, read it back for confirmation."""
    amount = amount if amount is not None else _slot_amount(turn.slots.get("amount"))
    day = day if day is not None else slot_day(turn.slots.get("date"))
    currency = _currency(turn)
    if currency is None:
        return turn.result("promise_unavailable")
    slots = dict(turn.slots)
    slots.update(
        amount=str(amount) if amount is not None else None,
        date=day.isoformat() if day else None,
    )
    if day is not None and day < turn.today:
        slots["date"] = None
        turn.conversation.slots = {**slots, "awaiting": "date"}
        return turn.result("date_past")
    if amount is None:
        turn.conversation.slots = {**slots, "awaiting": "amount"}
        return turn.result("ask_amount", date=turn.speaker.day(day) if day else None)
    if day is None:
        turn.conversation.slots = {**slots, "awaiting": "date"}
        return turn.result("ask_date", amount=turn.speaker.money(amount, currency))
    turn.conversation.slots = {**slots, "awaiting": "confirmation"}
    return turn.result(
        "read_back",
        event,
        amount=turn.speaker.money(amount, currency),
        date=turn.speaker.day(day),
    )


def _slot_amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value else None
    except InvalidOperation:
        return None


def slot_day(value: Any) -> dt.date | None:
    """A date kept in the slots (ISO text), or None."""
    return dt.date.fromisoformat(value) if value else None


def confirm_promise(turn: TurnContext) -> TurnResult:
    """The debtor confirmed the read-back: record the promise in the ledger and announce it."""
    conversation = turn.conversation
    amount = _slot_amount(turn.slots.get("amount"))
    day = slot_day(turn.slots.get("date"))
    currency = turn.slots.get("currency")
    if amount is None or day is None or not currency:
        return turn.result("promise_declined", "promise_declined")
    money = Money(amount.quantize(Decimal("0.01")), str(currency))
    channel = conversation.channel if conversation.channel in _LEDGER_CHANNELS else None
    try:
        promise = turn.call(
            "ledger.create_promise",
            {
                "account_id": conversation.account_id,
                "amount": money.as_json(),
                "due_on": day.isoformat(),
                **({"channel": channel} if channel else {}),
            },
        )
    except AlmacenError:
        return turn.result("promise_unavailable", "promise_declined")
    emit(
        turn.session,
        events.PROMISE_CAPTURED,
        {**about(conversation), "promise_id": promise.get("id"), "amount": money, "due_on": day},
        subject=("conversation", conversation.id),
    )
    conversation.outcome = "promise"
    conversation.slots = {
        k: v for k, v in turn.slots.items() if k not in ("amount", "date", "awaiting")
    }
    return turn.result(
        "promise_captured",
        "promise_confirmed",
        amount=turn.speaker.money(amount, str(currency)),
        date=turn.speaker.day(day),
    )


def _present(turn: TurnContext, offer: Mapping[str, Any], *, met: bool = True) -> TurnResult:
    if offer.get("status") == "pending_approval":
        return handover(turn, "approval", key="offer_needs_approval")
    terms = offer.get("terms") or {}
    currency = str((terms.get("total_cost") or {}).get("currency") or turn.slots.get("currency"))
    schedule = [row for row in terms.get("schedule", []) if row.get("number", 0) > 0]
    if offer.get("term_months") and schedule:
        amount = Decimal(schedule[-1]["amount"]["amount"])
        detail = turn.speaker.say(
            "offer_detail_plan",
            count=len(schedule),
            amount=turn.speaker.money(amount, currency),
        )
    else:
        total = Decimal((terms.get("total_cost") or {"amount": "0"})["amount"])
        detail = turn.speaker.say("offer_detail_lump", amount=turn.speaker.money(total, currency))
    turn.conversation.slots = {**turn.slots, "offer_id": offer["id"], "offer_kind": offer["kind"]}
    return turn.result(
        "offer" if met else "offer_unmet", "offer_made", label=offer["label"], detail=detail
    )


def propose_offer(turn: TurnContext, kind: str, amount: Decimal | None) -> TurnResult:
    """Propose an offer of ``kind``, or answer the debtor's amount with a counter."""
    account_id = turn.conversation.account_id
    try:
        if amount is None:
            offer = turn.call("offers.propose", {"account_id": account_id, "kind": kind})
            return _present(turn, offer)
        currency = _currency(turn)
        if currency is None:
            return turn.result("offers_unavailable")
        side = "monthly" if kind == "plan" else "upfront"
        body: dict[str, Any] = {side: Money(amount, currency).as_json()}
        if turn.slots.get("offer_id"):
            body["offer_id"] = turn.slots["offer_id"]
        else:
            body["account_id"] = account_id
        answer = turn.call("offers.counter", body)
        return _present(turn, answer["offer"], met=bool(answer["met"]))
    except AlmacenError:
        return turn.result("offers_unavailable")
    except (ValueError, TypeError):  # an amount the currency cannot hold
        return turn.result("offers_unavailable")


def accept_offer(turn: TurnContext) -> TurnResult:
    """The debtor accepted the offer on the table: accept it through ``offers.accept``."""
    offer_id = turn.slots.get("offer_id")
    if not offer_id:
        return turn.result("offer_declined", "offer_declined")
    try:
        offer = turn.call("offers.accept", {"offer_id": offer_id})
    except AlmacenError:
        return handover(turn, "approval", key="offer_needs_approval")
    turn.conversation.outcome = "settlement" if offer["kind"] == "settlement" else "plan"
    turn.conversation.slots = {
        k: v for k, v in turn.slots.items() if k not in ("offer_id", "offer_kind")
    }
    return turn.result("offer_accepted", "offer_accepted", label=offer["label"])
