"""One turn of the dialogue: what the debtor meant, in which state, decides what the bot does.

The moves are :mod:`.machine`'s table; this module decides which move a message asks for,
calls other modules through actions (:mod:`.debt`; recorded on the turn, each write in a
savepoint so a refused action leaves nothing behind) and chooses the words. Nothing about a
debt is said or looked up for the debtor's eyes before identity is verified.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from almacen import AlmacenError, emit

from . import events, nlu
from .conversation_tables import Conversation
from .debt import (
    accept_offer,
    account_summary,
    confirm_promise,
    propose_offer,
    quote_balance,
    slot_day,
    take_promise,
)
from .intents import IntentContext, PluginIntent
from .turn import Speaker, TurnContext, TurnResult, about, handover

__all__ = ["Speaker", "TurnResult", "handover", "opening", "take_turn"]

logger = logging.getLogger(__name__)

#: The action that writes an opt-out to the debtor's consent, when notifications offers it.
OPT_OUT_ACTION = "notifications.opt_out"
#: Intents that win over a yes/no answer while an offer or a read-back waits.
_OVERRIDING = frozenset(
    {"opt_out", "talk_to_human", "dispute", "hardship", "already_paid", "wrong_person"}
)
#: Intents recorded with their own event, then handed to a person (the reason and outcome).
_ROUTED = {
    "already_paid": events.PAYMENT_CLAIMED,
    "dispute": events.DISPUTE_RAISED,
    "hardship": events.HARDSHIP_REPORTED,
}
#: Intents answered the same way before and after identity (they reveal nothing).
_SAFE = frozenset({"opt_out", "talk_to_human", "wrong_person", "who_are_you"})


# -- opening and identity --------------------------------------------------------------------


def opening(speaker: Speaker) -> str:
    """The first words: who speaks, the jurisdiction's disclosure, the identity challenge."""
    return speaker.say("opening")


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _identity_answer(text: str, entities: nlu.Entities) -> str | None:
    if entities.digits:
        return _alnum(entities.digits)
    tokens = [_alnum(t) for t in text.split()]
    candidates = [t for t in tokens if len(t) >= 4 and any(c.isdigit() for c in t)]
    return max(candidates, key=len) if candidates else None


def _matches(answer: str, text: str, references: Sequence[str], field: str) -> bool:
    """Whether the answer proves identity against any of the references on file.

    A whole reference may come with words and spacing around it ("CC 79.123.456"): it
    matches when the message holds all of it.
    """
    for reference in references:
        expected = _alnum(reference)
        if field == "phone_last4":
            expected, answer_digits = re.sub(r"\D", "", expected), re.sub(r"\D", "", answer)
            if len(expected) >= 4 and len(answer_digits) == 4 and answer_digits == expected[-4:]:
                return True
        elif not expected:
            continue
        elif field in ("account_ref", "debtor_ref"):
            if answer == expected or (len(expected) >= 4 and expected in _alnum(text)):
                return True
        elif len(answer) >= 4 and answer[-4:] == expected[-4:]:
            return True
    return False


def _references(turn: TurnContext, summary: Mapping[str, Any], field: str) -> list[str] | None:
    """What the challenge's answer is checked against; None when it cannot be read."""
    if field.startswith("account_ref"):
        return [str(summary["account"]["external_ref"])]
    debtor_id = summary["account"].get("debtor_id")
    if not debtor_id:
        return None
    try:
        debtor = turn.call("ledger.get_debtor", {"debtor_id": debtor_id})
    except AlmacenError:
        return None
    # Read to check the answer only: nothing of it goes on the transcript or to the debtor.
    turn.actions[-1] = {"name": "ledger.get_debtor", "ok": True, "result": "(identity check)"}
    if field.startswith("debtor_ref"):
        return [str(debtor["external_ref"])]
    return [
        str(point["value"])
        for point in debtor.get("contact_points") or []
        if point["kind"] == "phone"
    ]


def _verify(turn: TurnContext, u: nlu.Understanding) -> TurnResult:
    conversation = turn.conversation
    answer = _identity_answer(u.entities.text or "", u.entities)
    if answer is None or len(answer) < 4:
        # Not an attempt at the challenge (a question, an amount): ask again, count nothing.
        return turn.result("identity_needed")
    if conversation.account_id is None:
        return handover(turn, "no_account", key="no_account")
    try:
        summary = turn.call("ledger.get_account", {"account_id": conversation.account_id})
    except AlmacenError:
        return handover(turn, "module_missing", key="no_account")
    # The summary is for checking only; the debtor has been told nothing of it yet.
    turn.actions[-1] = {"name": "ledger.get_account", "ok": True, "result": "(identity check)"}
    conversation.slots = {**turn.slots, "as_of": summary.get("as_of")}
    field = str(turn.settings["identity"]["field"])
    references = _references(turn, summary, field)
    if references is None:
        return handover(turn, "module_missing", key="no_account")
    if _matches(answer, u.entities.text or "", references, field):
        conversation.identity_failures = 0
        # Verified: the conversation is now the account's debtor's (consent, handover).
        conversation.debtor_id = conversation.debtor_id or summary["account"].get("debtor_id")
        return turn.result("verified", "identity_ok")
    conversation.identity_failures += 1
    left = int(turn.settings["identity"]["attempts"]) - conversation.identity_failures
    if left <= 0:
        return handover(turn, "identity_failed", key="identity_locked", event="identity_locked")
    return turn.result("identity_failed", "identity_failed", left=left)


def _opt_out(turn: TurnContext) -> TurnResult:
    conversation = turn.conversation
    data = {
        "debtor_id": conversation.debtor_id,
        "address": conversation.address,
        # "Don't write to me any more" in a web chat names no channel: it covers them all.
        "channel": None if conversation.channel == "web" else conversation.channel,
        "source": "bot",
    }
    registry = turn.session.info.get("registry")
    # Notifications records consent through an action when it offers one; without it the
    # opt-out is kept on the conversation and announced by bots.conversation_ended.
    if registry is not None and OPT_OUT_ACTION in registry.actions:
        try:
            turn.call(OPT_OUT_ACTION, data)
        except AlmacenError as exc:
            logger.warning("opt-out kept on conversation %s only: %s", conversation.id, exc.detail)
    conversation.slots = {**turn.slots, "opted_out": True}
    conversation.outcome = "opted_out"
    return turn.result("opt_out", "end")


# -- the turn --------------------------------------------------------------------------------


def _common(turn: TurnContext, u: nlu.Understanding) -> TurnResult | None:
    """Intents answered alike in every open state."""
    conversation = turn.conversation
    if u.intent == "opt_out":
        return _opt_out(turn)
    if u.intent == "talk_to_human":
        return handover(turn, "requested")
    if u.intent == "who_are_you":
        return turn.result("who_are_you")
    if u.intent == "wrong_person":
        conversation.outcome = "wrong_person"
        return turn.result("wrong_person", "wrong_person" if _state(turn) == "verifying" else "end")
    return None


def _state(turn: TurnContext) -> str:
    return turn.conversation.state


def _not_understood(turn: TurnContext) -> TurnResult:
    misses = int(turn.slots.get("misses", 0)) + 1
    turn.conversation.slots = {**turn.slots, "misses": misses}
    if misses >= 2:
        return handover(turn, "not_understood")
    return turn.result("not_understood")


def _verified(turn: TurnContext, u: nlu.Understanding, understood: bool) -> TurnResult:
    conversation = turn.conversation
    state = _state(turn)
    entities = u.entities
    waiting = state in ("offering", "confirming")
    if waiting and entities.yes_no is not None and u.intent not in _OVERRIDING:
        if state == "confirming":
            if entities.yes_no:
                return confirm_promise(turn)
            if entities.amount is not None or entities.date is not None:
                return take_promise(turn, entities.amount, entities.date)
            turn.conversation.slots = {
                k: v for k, v in turn.slots.items() if k not in ("amount", "date", "awaiting")
            }
            return turn.result("promise_declined", "promise_declined")
        if entities.yes_no:
            return accept_offer(turn)
        if entities.amount is None:
            turn.conversation.slots = {k: v for k, v in turn.slots.items() if k != "offer_id"}
            return turn.result("offer_declined", "offer_declined")
    intent = u.intent if understood else "out_of_scope"
    awaiting = turn.slots.get("awaiting")
    if intent in ("out_of_scope", "affirm", "deny", "identity", "greet") and (
        (awaiting in ("amount", "date", "confirmation"))
        and (entities.amount is not None or entities.date is not None)
    ):
        intent = "promise"
    if (
        intent in ("out_of_scope", "identity")
        and entities.amount is not None
        and entities.date is not None
    ):
        # "150 el 2 de enero" in doubtful words (or digits that look like an identity answer
        # once identity is done) is still an amount and a day: read it back.
        intent = "promise"
    if (
        state == "offering"
        and entities.amount is not None
        and intent in ("out_of_scope", "promise", "pay_later")
    ):
        intent = "settlement" if turn.slots.get("offer_kind") == "settlement" else "payment_plan"
    if intent in turn.plugins:
        return _plugin(turn, turn.plugins[intent], u)
    if intent == "balance":
        return quote_balance(turn)
    if intent in ("promise", "pay_later"):
        return take_promise(turn, entities.amount, entities.date)
    if intent == "pay_now":
        summary = account_summary(turn)
        if summary is None:
            return turn.result("promise_unavailable")
        turn.conversation.slots = {**turn.slots, "currency": summary["total"]["currency"]}
        return take_promise(turn, Decimal(summary["total"]["amount"]), turn.today)
    if intent == "payment_plan":
        return propose_offer(turn, "plan", entities.amount)
    if intent == "settlement":
        return propose_offer(turn, "settlement", entities.amount)
    routed = _ROUTED.get(intent)
    if routed is not None:
        # Recorded as its own event and outcome (for composition), then a person takes it.
        emit(
            turn.session,
            routed,
            {**about(conversation), "text": entities.text[:2000]},
            subject=("conversation", conversation.id),
        )
        conversation.outcome = intent
        return handover(turn, intent, key=intent)
    if intent == "thanks_bye":
        return turn.result("bye", "end")
    if intent == "greet":
        return turn.result("greet")
    if intent in ("affirm", "deny", "identity"):
        return turn.result("greet")
    return _not_understood(turn)


def _plugin(turn: TurnContext, intent: PluginIntent, u: nlu.Understanding) -> TurnResult:
    conversation = turn.conversation
    context = IntentContext(
        conversation_id=conversation.id,
        account_id=conversation.account_id,
        debtor_id=conversation.debtor_id,
        channel=conversation.channel,
        address=conversation.address,
        locale=turn.speaker.locale,
        text=u.entities.text,
        entities=u.entities,
        settings=turn.settings,
        call=turn.call,
    )
    try:
        answer = intent.handler(context)
    except AlmacenError:
        return turn.result("cannot")
    event = answer.event if answer.event in ("stay", "handover", "end") else "stay"
    if event == "handover":
        return handover(turn, intent.name)
    return TurnResult(answer.text, event, turn.actions)


def take_turn(
    session: Session,
    conversation: Conversation,
    u: nlu.Understanding,
    *,
    settings: Mapping[str, Any],
    speaker: Speaker,
    today: dt.date,
    plugins: Sequence[PluginIntent],
) -> TurnResult:
    """Decide the bot's answer to one understood message in the conversation's state."""
    known = slot_day(conversation.slots.get("as_of"))
    turn = TurnContext(
        session,
        conversation,
        settings,
        speaker,
        max(today, known) if known else today,
        {p.name: p for p in plugins},
    )
    understood = u.confidence >= float(settings["confidence_threshold"]) and (
        u.intent != "out_of_scope"
    )
    if understood:
        conversation.slots = {**conversation.slots, "misses": 0}
    if conversation.turn_count >= int(settings["max_turns"]):
        return handover(turn, "max_turns", key="max_turns")
    common = _common(turn, u) if understood and u.intent in _SAFE else None
    if common is not None:
        return common
    if conversation.state == "verifying":
        return _verify(turn, u)
    return _verified(turn, u, understood)
