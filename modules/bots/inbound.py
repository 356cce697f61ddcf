"""Inbound SMS and WhatsApp: continue the sender's conversation and reply on the channel.

A sender with no conversation yet is looked up by address (``ledger.find_debtors``); when the
ledger knows exactly one debtor there with an open account, the conversation is about it
(identity is still asked for before anything is said).

Consumes ``notifications.message_received``. The inbound id is the turn's message id, so a
redelivered event (or a provider's duplicate) is one turn and one reply.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from almacen import AlmacenError, run_action
from almacen.gateway.actions import subscribed_modules

from . import machine
from .conversation_tables import Conversation, Turn
from .service import MAX_MESSAGE, post_message, start
from .settings import MODULE, settings_for

__all__ = ["EVENT", "handle_message", "reply_request"]

logger = logging.getLogger(__name__)
EVENT = "notifications.message_received"


def _latest(session: Session, channel: str, sender: str) -> Conversation | None:
    return session.scalar(
        select(Conversation)
        .where(Conversation.channel == channel, Conversation.address == sender)
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .limit(1)
    )


#: How ``ledger.find_debtors`` is asked about a sender on each channel.
_FIND_FIELD = {"whatsapp": "phone", "sms": "phone", "email": "email"}


def _find_account(session: Session, channel: str, sender: str) -> tuple[str, str, str] | None:
    """The (account, debtor, language) of a sender the ledger knows by this address.

    Only one debtor at the address counts (a shared number is a person's to sort out); of
    their open accounts the first is talked about, and identity is still asked for.
    """
    field = _FIND_FIELD.get(channel)
    if field is None:
        return None
    try:
        found = run_action(session, "ledger.find_debtors", {field: sender})
    except AlmacenError as exc:  # no ledger, or no such action: a person sorts it out
        logger.info("sender on %s not looked up: %s", channel, exc.detail)
        return None
    debtors = [d for d in found["items"] if d["open_account_ids"]]
    if len(debtors) != 1:
        return None
    debtor = debtors[0]
    language = str(debtor.get("language") or "").split("-")[0]
    return str(debtor["open_account_ids"][0]), str(debtor["id"]), language


def handle_message(session: Session, payload: dict[str, Any]) -> Turn | None:
    """Answer one inbound message for the session's tenant; None when not the bot's to answer."""
    if MODULE not in subscribed_modules(session):
        return None
    inbound_id = str(payload["inbound_id"])
    seen = session.scalar(select(Turn).where(Turn.message_id == inbound_id).limit(1))
    if seen is not None:
        return seen
    channel, sender = str(payload["channel"]), str(payload["sender"])
    text = str(payload.get("text") or "")[:MAX_MESSAGE] or "?"
    conversation = _latest(session, channel, sender)
    replies: list[str] = []
    if conversation is None or conversation.state in machine.TERMINAL:
        account_id = conversation.account_id if conversation else None
        debtor_id = payload.get("debtor_id") or (conversation.debtor_id if conversation else None)
        locale = conversation.locale if conversation else None
        if conversation is None:
            known = _find_account(session, channel, sender)
            if known is not None:
                account_id, debtor_id, language = known
                locale = language if language in ("es", "en") else None
        conversation, first = start(
            session,
            account_id=account_id,
            debtor_id=debtor_id,
            channel=channel,
            address=sender,
            locale=locale,
        )
        replies.append(first.reply)
    _, turn, replayed = post_message(session, conversation.id, text, message_id=inbound_id)
    if replayed:
        return turn
    replies.append(turn.reply)
    _send(session, conversation, " ".join(replies), inbound_id, turn)
    return turn


#: Which recipient field carries the address on each channel.
_RECIPIENT_FIELD = {"whatsapp": "whatsapp", "sms": "phone", "email": "email"}


def reply_request(
    conversation: Conversation, text: str, *, template: str, idempotency_key: str
) -> dict[str, Any]:
    """The ``notifications.send`` input that carries ``text`` to the conversation's address.

    The tenant's notifications template ``template`` renders the bot's words (its body is
    ``{{ text }}``): notifications only sends templated messages.
    """
    field = _RECIPIENT_FIELD.get(conversation.channel, "address")
    request: dict[str, Any] = {
        "channel": conversation.channel,
        "recipient": {field: conversation.address, "locale": conversation.locale},
        "template": template,
        "locale": conversation.locale,
        "data": {"text": text},
        "idempotency_key": idempotency_key,
    }
    if conversation.debtor_id:
        request["debtor_id"] = conversation.debtor_id
    if conversation.account_id:
        request["account_ids"] = [conversation.account_id]
    return request


def _send(
    session: Session, conversation: Conversation, text: str, inbound_id: str, turn: Turn
) -> None:
    settings = settings_for(session)
    data = reply_request(
        conversation,
        text,
        template=settings["reply_template"],
        idempotency_key=f"bots-{inbound_id}"[:255],
    )
    try:
        with session.begin_nested():
            result = run_action(session, "notifications.send", data)
        record: dict[str, Any] = {"name": "notifications.send", "ok": True, "result": result}
    except AlmacenError as exc:
        logger.warning("bot reply to %s not sent: %s", conversation.address, exc.detail)
        record = {"name": "notifications.send", "ok": False, "error": exc.detail}
    turn.actions = [*turn.actions, record]
    session.flush()
