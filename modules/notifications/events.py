"""The notifications module's event types and their payload schemas."""

from __future__ import annotations

from marshmallow import Schema, fields

from almacen import EventType

__all__ = [
    "ALL",
    "MESSAGE_BLOCKED",
    "MESSAGE_DELIVERED",
    "MESSAGE_FAILED",
    "MESSAGE_RECEIVED",
    "MESSAGE_SENT",
    "OPTED_OUT",
]


class MessageEventSchema(Schema):
    """Payload of the outbound message events: which message, to whom, on which channel."""

    message_id = fields.String(required=True)
    debtor_id = fields.String(load_default=None, allow_none=True)
    channel = fields.String(required=True)
    status = fields.String(required=True)
    #: Why it failed or was blocked (reason codes), empty otherwise.
    reasons = fields.List(fields.String(), load_default=list)


class OptedOutSchema(Schema):
    """Payload of ``notifications.opted_out``."""

    debtor_id = fields.String(load_default=None, allow_none=True)
    address = fields.String(load_default=None, allow_none=True)
    #: The channel opted out of; null means every channel.
    channel = fields.String(load_default=None, allow_none=True)
    #: How it arrived: ``inbound`` (a reply), ``unsubscribe`` (RFC 8058 link), ``api``, ``bot``.
    source = fields.String(required=True)


class MessageReceivedSchema(Schema):
    """Payload of ``notifications.message_received``: an inbound reply that is not an opt-out."""

    inbound_id = fields.String(required=True)
    debtor_id = fields.String(load_default=None, allow_none=True)
    channel = fields.String(required=True)
    sender = fields.String(required=True)
    text = fields.String(required=True)
    #: The outbound message this replies to, when the provider says.
    in_reply_to = fields.String(load_default=None, allow_none=True)


MESSAGE_SENT = EventType(
    name="notifications.sent",
    schema=MessageEventSchema,
    description="A message was handed to its channel's provider.",
)
MESSAGE_DELIVERED = EventType(
    name="notifications.delivered",
    schema=MessageEventSchema,
    description="The provider reported the message delivered.",
)
MESSAGE_FAILED = EventType(
    name="notifications.failed",
    schema=MessageEventSchema,
    description="The message failed for good (retries exhausted, bounced or refused).",
)
MESSAGE_BLOCKED = EventType(
    name="notifications.blocked",
    schema=MessageEventSchema,
    description="The contact policy blocked the message at send time (dropped, or waiting).",
)
OPTED_OUT = EventType(
    name="notifications.opted_out",
    schema=OptedOutSchema,
    description="A debtor opted out of a channel (or of every channel).",
)
MESSAGE_RECEIVED = EventType(
    name="notifications.message_received",
    schema=MessageReceivedSchema,
    description="An inbound message arrived that is not an opt-out (a bot may answer it).",
)
ALL = (
    MESSAGE_SENT,
    MESSAGE_DELIVERED,
    MESSAGE_FAILED,
    MESSAGE_BLOCKED,
    OPTED_OUT,
    MESSAGE_RECEIVED,
)
