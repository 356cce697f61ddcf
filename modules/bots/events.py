"""The bots module's event types and their payload schemas."""

from __future__ import annotations

from marshmallow import Schema, fields

from almacen import EventType
from almacen.gateway.money import MoneyField

__all__ = [
    "ALL",
    "CONVERSATION_ENDED",
    "CONVERSATION_STARTED",
    "DISPUTE_RAISED",
    "HANDOVER_REQUESTED",
    "HANDOVER_RESOLVED",
    "HARDSHIP_REPORTED",
    "PAYMENT_CLAIMED",
    "PROMISE_CAPTURED",
]


class ConversationEventSchema(Schema):
    """Which conversation, about which account, on which channel."""

    conversation_id = fields.String(required=True)
    account_id = fields.String(allow_none=True, load_default=None)
    channel = fields.String(required=True)


class EndedSchema(ConversationEventSchema):
    """Payload of ``bots.conversation_ended``: how it ended."""

    outcome = fields.String(required=True)


class PromiseCapturedSchema(ConversationEventSchema):
    """Payload of ``bots.promise_captured``: the ledger's promise and its terms."""

    promise_id = fields.String(allow_none=True, load_default=None)
    amount = MoneyField(required=True)
    due_on = fields.Date(required=True)


class HandoverSchema(ConversationEventSchema):
    """Payload of ``bots.handover_requested``: why a person is needed."""

    reason = fields.String(required=True)
    handover_id = fields.String(required=True)


class HandoverResolvedSchema(ConversationEventSchema):
    """Payload of ``bots.handover_resolved``: why a person was needed and what came of it."""

    handover_id = fields.String(required=True)
    reason = fields.String(required=True)
    resolution = fields.String(required=True)
    agent = fields.String(allow_none=True, load_default=None)


class DisputeSchema(ConversationEventSchema):
    """Payload of ``bots.dispute_raised``, ``hardship_reported``, ``payment_claimed``: the
    debtor's words."""

    text = fields.String(required=True)


CONVERSATION_STARTED = EventType(
    name="bots.conversation_started",
    schema=ConversationEventSchema,
    description="A conversation with a debtor started.",
)
PROMISE_CAPTURED = EventType(
    name="bots.promise_captured",
    schema=PromiseCapturedSchema,
    description="The debtor confirmed a promise to pay, read back to them.",
)
HANDOVER_REQUESTED = EventType(
    name="bots.handover_requested",
    schema=HandoverSchema,
    description="The conversation waits for a person (with its transcript), and why.",
)
DISPUTE_RAISED = EventType(
    name="bots.dispute_raised",
    schema=DisputeSchema,
    description="The debtor disputes the debt.",
)
HANDOVER_RESOLVED = EventType(
    name="bots.handover_resolved",
    schema=HandoverResolvedSchema,
    description="A person resolved a conversation from the handover queue, and how.",
)
HARDSHIP_REPORTED = EventType(
    name="bots.hardship_reported",
    schema=DisputeSchema,
    description="The debtor says they cannot pay (job loss, illness...): their words.",
)
PAYMENT_CLAIMED = EventType(
    name="bots.payment_claimed",
    schema=DisputeSchema,
    description='The debtor says they paid already ("ya pagué"): their words, to check.',
)
CONVERSATION_ENDED = EventType(
    name="bots.conversation_ended",
    schema=EndedSchema,
    description="A conversation ended, with its outcome.",
)
ALL = (
    CONVERSATION_STARTED,
    PROMISE_CAPTURED,
    HANDOVER_REQUESTED,
    HANDOVER_RESOLVED,
    DISPUTE_RAISED,
    HARDSHIP_REPORTED,
    PAYMENT_CLAIMED,
    CONVERSATION_ENDED,
)
