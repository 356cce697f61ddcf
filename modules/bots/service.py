"""Conversations: start one, take a debtor's message, read and export transcripts.

Plain functions over a session opened for one tenant (every query is scoped by it). A turn
is one transaction: the turn row, the conversation's new state, the actions' writes and the
events all commit together, or none does.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from almacen import emit
from almacen.gateway.db import utcnow
from almacen.gateway.errors import ConflictError, NotFoundError, UnprocessableError
from almacen.gateway.pagination import Page, paginate

from . import classifiers, events, machine, nlu, tenant_cache
from .content_tables import TemplateOverride
from .conversation_tables import Conversation, HandoverItem, Turn
from .dialogue import Speaker, opening, take_turn
from .intents import PluginIntent
from .settings import settings_for

__all__ = [
    "MAX_MESSAGE",
    "ConversationEndedError",
    "export",
    "get_conversation",
    "handovers",
    "list_turns",
    "plugin_intents",
    "post_message",
    "registry_intents",
    "start",
]

logger = logging.getLogger(__name__)

#: Longer messages are cut before understanding (the turn keeps the first part).
MAX_MESSAGE = 2000
_plugin_cache: dict[int, tuple[object, tuple[PluginIntent, ...]]] = {}


class ConversationEndedError(ConflictError):
    """Raised when a message arrives for a conversation that ended or a person took over."""

    slug = "conversation-ended"
    title = "The conversation has ended"


def plugin_intents(session: Session) -> tuple[PluginIntent, ...]:
    """Intents every installed plugin adds (``almacen_bots_intents``), collected once."""
    registry = session.info.get("registry")
    if registry is None:
        return ()
    return registry_intents(registry)


def registry_intents(registry: Any) -> tuple[PluginIntent, ...]:
    """:func:`plugin_intents` of a plugin registry (the app's, at start-up)."""
    cached = _plugin_cache.get(id(registry))
    if cached is not None and cached[0] is registry:
        return cached[1]
    builtin = set(nlu.INTENTS)
    found: dict[str, PluginIntent] = {}
    for result in registry.hook.almacen_bots_intents():
        for intent in result or ():
            if intent.name in builtin or intent.name in found:
                logger.warning("bot intent %r is defined already; skipped", intent.name)
                continue
            found[intent.name] = intent
    intents = tuple(found.values())
    _plugin_cache[id(registry)] = (registry, intents)
    return intents


def _speaker(session: Session, settings: Mapping[str, Any], locale: str) -> Speaker:
    def overrides() -> dict[str, str]:
        rows = session.execute(
            select(TemplateOverride.key, TemplateOverride.text).where(
                TemplateOverride.locale == locale
            )
        ).all()
        return {key: text for key, text in rows}

    tenant_id = str(session.info["tenant_id"])
    return Speaker(
        settings, locale, tenant_cache.cached(tenant_id, f"templates:{locale}", overrides)
    )


def _settings(session: Session) -> dict[str, Any]:
    """The tenant's configuration, remembered for a few seconds (see :mod:`.tenant_cache`)."""
    tenant_id = str(session.info["tenant_id"])
    return tenant_cache.cached(tenant_id, "settings", lambda: settings_for(session))


def start(
    session: Session,
    *,
    account_id: str | None,
    debtor_id: str | None = None,
    channel: str = "web",
    address: str | None = None,
    locale: str | None = None,
) -> tuple[Conversation, Turn]:
    """Open a conversation and say the opening (disclosure, identity challenge)."""
    settings = settings_for(session)
    locale = locale or settings["default_locale"]
    conversation = Conversation(
        account_id=account_id,
        debtor_id=debtor_id,
        channel=channel,
        address=address,
        locale=locale,
        state=machine.VERIFYING,
        turn_count=0,
        identity_failures=0,
        slots={},
    )
    session.add(conversation)
    session.flush()
    speaker = _speaker(session, settings, locale)
    turn = Turn(
        conversation_id=conversation.id,
        seq=0,
        reply=opening(speaker),
        entities={},
        actions=[],
        state_before=machine.VERIFYING,
        state_after=machine.VERIFYING,
    )
    session.add(turn)
    emit(
        session,
        events.CONVERSATION_STARTED,
        {"conversation_id": conversation.id, "account_id": account_id, "channel": channel},
        subject=("conversation", conversation.id),
    )
    session.flush()
    return conversation, turn


def get_conversation(session: Session, conversation_id: str) -> Conversation:
    """One of the tenant's conversations. :raises NotFoundError: unknown (or another's)."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFoundError(f"no conversation {conversation_id!r}")
    return conversation


def _entities(entities: nlu.Entities) -> dict[str, Any]:
    return {
        "amount": str(entities.amount) if entities.amount is not None else None,
        "date": entities.date.isoformat() if entities.date else None,
        "yes_no": entities.yes_no,
        "digits": entities.digits,
    }


def post_message(
    session: Session,
    conversation_id: str,
    text: str,
    *,
    message_id: str | None = None,
    today: dt.date | None = None,
) -> tuple[Conversation, Turn, bool]:
    """Answer one message; ``(conversation, turn, replayed)``.

    A message whose ``message_id`` the conversation has seen returns that turn unchanged
    (``replayed``): a channel's redelivery is one turn.

    :raises NotFoundError: unknown conversation.
    :raises ConversationEndedError: the conversation ended or a person took over.
    :raises UnprocessableError: an empty message.
    """
    conversation = get_conversation(session, conversation_id)
    if message_id is not None:
        seen = session.scalar(
            select(Turn).where(
                Turn.conversation_id == conversation.id, Turn.message_id == message_id
            )
        )
        if seen is not None:
            return conversation, seen, True
    if conversation.state in machine.TERMINAL:
        raise ConversationEndedError(
            f"conversation {conversation.id} is {conversation.state}; start a new one",
            state=conversation.state,
            outcome=conversation.outcome,
        )
    text = text.strip()
    if not text:
        raise UnprocessableError(
            "The message is empty.",
            errors=[{"pointer": "/text", "detail": "must contain some text"}],
        )
    text = text[:MAX_MESSAGE]
    settings = _settings(session)
    today = today or utcnow().date()
    plugins = plugin_intents(session)
    classifier = classifiers.classifier_for(session, plugins)
    understanding = nlu.understand(text, classifier=classifier, today=today)
    speaker = _speaker(session, settings, conversation.locale)
    before = conversation.state
    result = take_turn(
        session,
        conversation,
        understanding,
        settings=settings,
        speaker=speaker,
        today=today,
        plugins=plugins,
    )
    conversation.state = machine.advance(before, result.event)
    conversation.turn_count += 1
    conversation.updated_at = utcnow()
    # The opening is turn 0 and every answered message adds one: the count is the last seq.
    seq = conversation.turn_count
    turn = Turn(
        conversation_id=conversation.id,
        seq=seq,
        message_id=message_id,
        user_text=text,
        intent=understanding.intent,
        confidence=round(float(understanding.confidence), 4),
        language=understanding.language,
        entities=_entities(understanding.entities),
        actions=result.actions,
        reply=result.reply,
        state_before=before,
        state_after=conversation.state,
    )
    session.add(turn)
    if conversation.state in machine.TERMINAL:
        _end(session, conversation)
    if message_id is None:
        session.flush()
        return conversation, turn, False
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # The same message delivered twice at once: the other delivery's turn stands.
        raise ConflictError(
            f"message {message_id!r} is being answered already", message_id=message_id
        ) from None
    return conversation, turn, False


def _end(session: Session, conversation: Conversation) -> None:
    if conversation.outcome is None:
        conversation.outcome = {
            machine.HANDOVER: "handover",
            machine.LOCKED: "locked",
        }.get(conversation.state, "ended")
    conversation.ended_at = utcnow()
    emit(
        session,
        events.CONVERSATION_ENDED,
        {
            "conversation_id": conversation.id,
            "account_id": conversation.account_id,
            "channel": conversation.channel,
            "outcome": conversation.outcome,
        },
        subject=("conversation", conversation.id),
    )


def list_turns(
    session: Session, conversation_id: str, *, limit: int, cursor: str | None
) -> Page[Turn]:
    """The conversation's turns in order, one page."""
    get_conversation(session, conversation_id)
    statement = select(Turn).where(Turn.conversation_id == conversation_id)
    return paginate(session, statement, keys=(Turn.at, Turn.id), limit=limit, cursor=cursor)


def list_conversations(
    session: Session,
    *,
    limit: int,
    cursor: str | None,
    account_id: str | None = None,
    state: str | None = None,
) -> Page[Conversation]:
    """The tenant's conversations, oldest first."""
    statement = select(Conversation)
    if account_id is not None:
        statement = statement.where(Conversation.account_id == account_id)
    if state is not None:
        statement = statement.where(Conversation.state == state)
    return paginate(
        session,
        statement,
        keys=(Conversation.started_at, Conversation.id),
        limit=limit,
        cursor=cursor,
    )


def transcript(session: Session, conversation_ids: Sequence[str]) -> dict[str, list[Turn]]:
    """The turns of each conversation, in order."""
    out: dict[str, list[Turn]] = {cid: [] for cid in conversation_ids}
    if not conversation_ids:
        return out
    rows = session.scalars(
        select(Turn).where(Turn.conversation_id.in_(conversation_ids)).order_by(Turn.seq)
    )
    for turn in rows:
        out[turn.conversation_id].append(turn)
    return out


def handovers(
    session: Session, *, status: str | None, limit: int, cursor: str | None
) -> tuple[Page[HandoverItem], dict[str, list[Turn]]]:
    """The handover queue, oldest first, with each conversation's transcript."""
    statement = select(HandoverItem)
    if status is not None:
        statement = statement.where(HandoverItem.status == status)
    page = paginate(
        session,
        statement,
        keys=(HandoverItem.created_at, HandoverItem.id),
        limit=limit,
        cursor=cursor,
    )
    return page, transcript(session, [item.conversation_id for item in page.items])


_EXPORT_COLUMNS = (
    "conversation_id",
    "seq",
    "at",
    "user_text",
    "intent",
    "confidence",
    "entities",
    "actions",
    "reply",
    "state_before",
    "state_after",
)


def _export_row(turn: Turn) -> dict[str, Any]:
    return {
        "conversation_id": turn.conversation_id,
        "seq": turn.seq,
        "at": turn.at.isoformat(),
        "user_text": turn.user_text,
        "intent": turn.intent,
        "confidence": turn.confidence,
        "entities": turn.entities,
        "actions": [a.get("name") for a in turn.actions],
        "reply": turn.reply,
        "state_before": turn.state_before,
        "state_after": turn.state_after,
    }


def export(session: Session, *, fmt: str, since: dt.datetime | None = None) -> str:
    """Every turn of the tenant's conversations as JSON lines or CSV."""
    statement = select(Turn).order_by(Turn.conversation_id, Turn.seq)
    if since is not None:
        statement = statement.where(Turn.at >= since)
    rows: Iterable[Turn] = session.scalars(statement)
    if fmt == "jsonl":
        return "".join(json.dumps(_export_row(t), ensure_ascii=False) + "\n" for t in rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_EXPORT_COLUMNS)
    writer.writeheader()
    for turn in rows:
        row = _export_row(turn)
        row["entities"] = json.dumps(row["entities"], ensure_ascii=False)
        row["actions"] = " ".join(row["actions"])
        writer.writerow(row)
    return buffer.getvalue()
