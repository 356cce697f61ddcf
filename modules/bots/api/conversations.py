"""``/conversations``: start one, post a message, read one with its turns (thin handlers)."""

from __future__ import annotations

from typing import Any

from almacen.gateway.errors import UnprocessableError
from almacen.gateway.state import request_session

from .. import service
from ..schemas import ConversationSchema, TurnSchema

__all__ = ["get", "message", "search", "start"]

_conversation = ConversationSchema()
_turn = TurnSchema()


def start(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Open a conversation about an account (or with a contact address); the opening."""
    if not body.get("account_id") and not body.get("address"):
        raise UnprocessableError(
            "Say whom the conversation is with.",
            errors=[{"pointer": "/account_id", "detail": "give account_id or address"}],
        )
    conversation, turn = service.start(
        request_session(),
        account_id=body.get("account_id"),
        debtor_id=body.get("debtor_id"),
        channel=body.get("channel", "web"),
        address=body.get("address"),
        locale=body.get("locale"),
    )
    return {
        "conversation": _conversation.dump(conversation),
        "reply": turn.reply,
        "state": conversation.state,
    }, 201


def message(conversation_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The bot's answer to one message, and the conversation's state after it."""
    conversation, turn, replayed = service.post_message(
        request_session(), conversation_id, body["text"], message_id=body.get("message_id")
    )
    return {
        "reply": turn.reply,
        "state": turn.state_after,
        "replayed": replayed,
        "turn": _turn.dump(turn),
        "conversation": _conversation.dump(conversation),
    }


def get(conversation_id: str, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """One conversation and a page of its turns."""
    session = request_session()
    conversation = service.get_conversation(session, conversation_id)
    page = service.list_turns(session, conversation_id, limit=limit, cursor=cursor)
    return {
        "conversation": _conversation.dump(conversation),
        "turns": {"items": _turn.dump(page.items, many=True), "next": page.next_cursor},
    }


def search(
    limit: int = 50,
    cursor: str | None = None,
    account_id: str | None = None,
    state: str | None = None,
) -> dict[str, Any]:
    """The tenant's conversations, oldest first."""
    page = service.list_conversations(
        request_session(), limit=limit, cursor=cursor, account_id=account_id, state=state
    )
    return {"items": _conversation.dump(page.items, many=True), "next": page.next_cursor}
