"""Wire forms of messages: what a caller asks to send, a message with its history, and the
bodies providers post to the receipt and inbound callbacks."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

__all__ = [
    "CHANNEL_PATTERN",
    "InboundResultSchema",
    "InboundSchema",
    "MessageCreateSchema",
    "MessageHistorySchema",
    "MessageSchema",
    "ReceiptSchema",
]

#: A channel name: a built-in one, a plugin's, or ``best``.
CHANNEL_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
STATUSES = ("queued", "sent", "delivered", "failed", "bounced", "blocked")


class RecipientSchema(Schema):
    """The recipient given explicitly (a tenant without the ledger, or overrides)."""

    email = fields.String(load_default=None, validate=validate.Length(min=3, max=320))
    phone = fields.String(load_default=None, validate=validate.Length(min=3, max=32))
    whatsapp = fields.String(load_default=None, validate=validate.Length(min=3, max=32))
    #: The address on any other channel (a webhook URL, a plugin channel's handle).
    address = fields.String(load_default=None, validate=validate.Length(min=1, max=320))
    time_zone = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    country = fields.String(load_default=None, validate=validate.Length(equal=2))
    locale = fields.String(load_default=None, validate=validate.Length(min=2, max=35))


class MessageCreateSchema(Schema):
    """A request to send: to whom, on which channel, which template with which data."""

    debtor_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    recipient = fields.Nested(RecipientSchema, load_default=None)
    channel = fields.String(required=True, validate=validate.Regexp(CHANNEL_PATTERN))
    template = fields.String(required=True, validate=validate.Length(min=1, max=100))
    locale = fields.String(load_default=None, validate=validate.Length(min=2, max=35))
    data = fields.Dict(keys=fields.String(), load_default=dict)
    account_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        load_default=list,
        validate=validate.Length(max=100),
    )
    on_blocked = fields.String(load_default="wait", validate=validate.OneOf(("wait", "drop")))
    #: For action callers (strategies, bots): the same key and request give the same message.
    idempotency_key = fields.String(
        load_default=None, validate=validate.Regexp(r"^[\x21-\x7e]{1,255}$")
    )


class MessageHistorySchema(Schema):
    """One step of a message's life."""

    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    note = fields.String(allow_none=True)
    at = fields.AwareDateTime()


class MessageSchema(Schema):
    """A message as the API shows it, with its status history."""

    id = fields.String()
    debtor_id = fields.String(allow_none=True)
    channel = fields.String()
    address = fields.String()
    template = fields.String()
    template_version = fields.Integer()
    locale = fields.String()
    account_ids = fields.List(fields.String())
    subject = fields.String(allow_none=True)
    text = fields.String()
    html = fields.String(allow_none=True)
    encoding = fields.String(allow_none=True)
    segments = fields.Integer(allow_none=True)
    status = fields.String()
    on_blocked = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    merged_requests = fields.Method("_merged")
    provider = fields.String(allow_none=True)
    provider_message_id = fields.String(allow_none=True)
    reasons = fields.List(fields.String())
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    history = fields.List(fields.Nested(MessageHistorySchema))

    def _merged(self, message: object) -> int:
        return len(getattr(message, "data", None) or []) or 1


class ReceiptSchema(Schema):
    """A provider's delivery receipt: which message (ours or theirs) and what became of it."""

    class Meta:
        unknown = EXCLUDE

    message_id = fields.String(load_default=None, validate=validate.Length(min=1, max=32))
    provider_message_id = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    status = fields.String(
        required=True, validate=validate.OneOf(("delivered", "failed", "bounced"))
    )
    reason = fields.String(load_default=None, validate=validate.Length(max=1000))


class InboundSchema(Schema):
    """A reply a provider received for the tenant (SMS, WhatsApp or e-mail)."""

    class Meta:
        unknown = EXCLUDE

    channel = fields.String(required=True, validate=validate.Regexp(CHANNEL_PATTERN))
    sender = fields.String(required=True, data_key="from", validate=validate.Length(min=1, max=320))
    text = fields.String(required=True, validate=validate.Length(max=10000))
    subject = fields.String(load_default=None, validate=validate.Length(max=1000))
    provider_message_id = fields.String(load_default=None, validate=validate.Length(min=1, max=255))
    #: The outbound message it answers: our message id or the provider's.
    in_reply_to = fields.String(load_default=None, validate=validate.Length(min=1, max=255))


class InboundResultSchema(Schema):
    """What the inbound callback did with a reply."""

    id = fields.String()
    opted_out = fields.Boolean()
    debtor_id = fields.String(allow_none=True)
