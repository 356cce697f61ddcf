"""What every move of a turn shares: its context, the words, its result, and handing over.

:class:`TurnContext` carries the session, the conversation, the tenant's settings and the
:class:`Speaker`; its ``call`` runs another module's action (in a savepoint unless it only
reads) and records it on the turn. :func:`handover` queues the conversation for a person.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from almacen import AlmacenError, emit, run_action
from almacen.gateway.db import utcnow

from . import events
from .conversation_tables import Conversation, HandoverItem
from .intents import PluginIntent
from .responses import DEFAULTS, format_day, format_money, render

__all__ = ["Speaker", "TurnContext", "TurnResult", "about", "handover"]

#: Actions that only read: run without a savepoint.
_READ_ONLY = frozenset({"ledger.get_account", "ledger.get_debtor", "ledger.find_debtors"})


@dataclasses.dataclass
class TurnResult:
    """What a turn did: the reply, the move, and the actions called with their results."""

    reply: str
    event: str
    actions: list[dict[str, Any]] = dataclasses.field(default_factory=list)


class Speaker:
    """Renders response keys in the conversation's locale, tenant overrides first."""

    def __init__(
        self, settings: Mapping[str, Any], locale: str, overrides: Mapping[str, str]
    ) -> None:
        self.locale = locale if locale in DEFAULTS else "es"
        self.overrides = overrides
        identity = settings["identity"]["field"]
        self.base: dict[str, Any] = {
            "bot_name": settings["bot_name"],
            "company": settings["company_name"],
            "formal": settings["tone"] == "formal",
            "disclosure": settings["disclosure"].get(self.locale, ""),
        }
        self.base["challenge"] = self.say(f"challenge.{identity}")

    def text(self, key: str) -> str:
        return self.overrides.get(key) or DEFAULTS[self.locale][key]

    def say(self, key: str, **context: Any) -> str:
        return render(self.text(key), {**self.base, **context})

    def money(self, amount: Decimal, currency: str) -> str:
        return format_money(amount, currency, self.locale)

    def day(self, day: dt.date) -> str:
        return format_day(day, self.locale)


@dataclasses.dataclass
class TurnContext:
    """Everything one turn needs, and the actions it called."""

    session: Session
    conversation: Conversation
    settings: Mapping[str, Any]
    speaker: Speaker
    today: dt.date
    plugins: Mapping[str, PluginIntent]
    actions: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def call(self, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Run an action in a savepoint, recording it; re-raise what it refused.

        A read-only action runs without one: it has nothing to undo, and a savepoint costs
        two round trips to the database on every balance question.
        """
        try:
            if name in _READ_ONLY:
                result = run_action(self.session, name, data)
            else:
                with self.session.begin_nested():
                    result = run_action(self.session, name, data)
        except AlmacenError as exc:
            self.actions.append({"name": name, "ok": False, "error": exc.detail})
            raise
        self.actions.append({"name": name, "ok": True, "result": result})
        return result

    @property
    def slots(self) -> dict[str, Any]:
        return self.conversation.slots

    def result(self, key: str, event: str = "stay", **context: Any) -> TurnResult:
        return TurnResult(self.speaker.say(key, **context), event, self.actions)


# -- handover and ending ---------------------------------------------------------------------


def _within_hours(settings: Mapping[str, Any], now: dt.datetime) -> bool:
    hours = settings["handover_hours"]
    try:
        local = now.astimezone(ZoneInfo(hours["time_zone"]))
    except (KeyError, ValueError):
        local = now
    return bool(hours["start"] <= local.strftime("%H:%M") < hours["end"])


def handover(
    turn: TurnContext, reason: str, *, key: str = "handover", event: str = "handover"
) -> TurnResult:
    """Queue the conversation for a person, announce it, and say so (and when)."""
    conversation = turn.conversation
    item = HandoverItem(conversation_id=conversation.id, reason=reason)
    turn.session.add(item)
    turn.session.flush()
    emit(
        turn.session,
        events.HANDOVER_REQUESTED,
        {**about(conversation), "reason": reason, "handover_id": item.id},
        subject=("conversation", conversation.id),
    )
    reply = turn.speaker.say(key)
    if not _within_hours(turn.settings, utcnow()):
        hours = turn.settings["handover_hours"]
        reply += " " + turn.speaker.say("handover_after_hours", **hours)
    conversation.slots = {**turn.slots, "handover_reason": reason}
    return TurnResult(reply, event, turn.actions)


def about(conversation: Conversation) -> dict[str, Any]:
    """Who and what an event of this conversation is about."""
    return {
        "conversation_id": conversation.id,
        "account_id": conversation.account_id,
        "channel": conversation.channel,
    }
