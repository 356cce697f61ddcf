"""The notifications module's actions: ``send``, ``contact_check`` and ``opt_out``.

Each handler is ``handler(session, tenant_id, data)``: ``data`` is what the action's input
schema loaded, and ``session`` must be open for ``tenant_id``; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from almacen import Action
from almacen.gateway.db import UnscopedQueryError, utcnow

from .contact.consent import record_opt_out
from .contact.errors import fault
from .contact.schemas import ContactCheckInputSchema, ContactCheckSchema
from .contact.service import check_request, known_channels
from .message_tables import Message
from .sending import accept_message
from .sending.schemas import MessageCreateSchema, MessageSchema

__all__ = ["ACTIONS"]


def send(session: Session, tenant_id: str, data: Mapping[str, Any]) -> Message:
    """``notifications.send``: accept a message (rendered now, sent by the worker)."""
    if session.info.get("tenant_id") != tenant_id:
        raise UnscopedQueryError(f"notifications.send for {tenant_id} needs that tenant's session")
    return accept_message(session, tenant_id, data).message


class OptOutSchema(Schema):
    """Input and output of ``notifications.opt_out``: whose opt-out, of which channel."""

    debtor_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 64))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 320))
    #: The channel opted out of; null opts out of every channel.
    channel = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 40))
    #: Who heard it (``bot``, ``agent``, ...), kept with the consent record.
    source = fields.String(load_default="action", validate=validate.Length(1, 40))


def opt_out(session: Session, tenant_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``notifications.opt_out``: write an opt-out to consent at once (idempotent)."""
    if session.info.get("tenant_id") != tenant_id:
        raise UnscopedQueryError(
            f"notifications.opt_out for {tenant_id} needs that tenant's session"
        )
    channel = data.get("channel")
    if channel is not None and channel not in known_channels(session):
        raise fault("/channel", f"unknown channel {channel!r}")
    record_opt_out(
        session,
        tenant_id,
        debtor_id=data.get("debtor_id"),
        address=data.get("address"),
        channel=channel,
        source=data["source"],
        at=utcnow(),
    )
    return dict(data)


ACTIONS: list[Action] = [
    Action(
        name="notifications.send",
        input_schema=MessageCreateSchema,
        output_schema=MessageSchema,
        handler=send,
        description="Send a templated message to a debtor (or an explicit recipient) on a "
        "channel or the best available one, under the contact policy; idempotent by "
        "idempotency_key.",
    ),
    Action(
        name="notifications.contact_check",
        input_schema=ContactCheckInputSchema,
        output_schema=ContactCheckSchema,
        handler=check_request,
        description="May this debtor be contacted on this channel now (or at a given time)? "
        "Allowed or not, every reason with its legal source, and the next allowed time.",
    ),
    Action(
        name="notifications.opt_out",
        input_schema=OptOutSchema,
        output_schema=OptOutSchema,
        handler=opt_out,
        description="Record a debtor's (or an address's) opt-out of a channel, or of every "
        "channel, at once; announced by notifications.opted_out. Idempotent.",
    ),
]
