"""``/messages``: send a message, list the tenant's messages, read one (thin handlers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flask
from marshmallow import ValidationError

from almacen.gateway.errors import UnprocessableError, marshmallow_errors
from almacen.gateway.state import request_session

from ..sending import accept_message, get_message, list_messages
from ..sending.schemas import MessageCreateSchema, MessageSchema

__all__ = ["create", "get", "search"]

_message = MessageSchema()


def _load(body: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return dict(MessageCreateSchema().load(body))
    except ValidationError as exc:
        raise UnprocessableError(
            "The message cannot be read.", errors=marshmallow_errors(exc.messages)
        ) from None


def create(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Accept a message: rendered now, queued for the send loop (200 when it was folded into
    a pending message or replayed by its Idempotency-Key)."""
    data = _load(body)
    session = request_session()
    key = flask.request.headers.get("Idempotency-Key")
    accepted = accept_message(session, str(session.info["tenant_id"]), data, key=key)
    return dict(_message.dump(accepted.message)), 201 if accepted.created else 200


def search(
    debtor_id: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """A page of the tenant's messages, oldest first."""
    found = list_messages(
        request_session(),
        debtor_id=debtor_id,
        status=status,
        channel=channel,
        limit=limit,
        cursor=cursor,
    )
    return {"items": _message.dump(found.items, many=True), "next": found.next_cursor}


def get(message_id: str) -> dict[str, Any]:
    """One message with its status history."""
    return dict(_message.dump(get_message(request_session(), message_id)))
