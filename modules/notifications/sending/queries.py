"""Reading messages: one with its history, or a page of them (the session's tenant only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from almacen.gateway.errors import NotFoundError
from almacen.gateway.pagination import DEFAULT_LIMIT, Page, paginate

from ..message_tables import Message

__all__ = ["get_message", "list_messages"]


def get_message(session: Session, message_id: str) -> Message:
    """One message of the tenant. :raises NotFoundError: none (or another tenant's)."""
    message = session.get(Message, message_id)
    if message is None or message.tenant_id != session.info.get("tenant_id"):
        raise NotFoundError(f"No message {message_id}.")
    return message


def list_messages(
    session: Session,
    *,
    debtor_id: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Message]:
    """A page of the tenant's messages, oldest first, filtered as asked."""
    statement = select(Message)
    if debtor_id is not None:
        statement = statement.where(Message.debtor_id == debtor_id)
    if status is not None:
        statement = statement.where(Message.status == status)
    if channel is not None:
        statement = statement.where(Message.channel == channel)
    return paginate(
        session, statement, keys=(Message.created_at, Message.id), limit=limit, cursor=cursor
    )
