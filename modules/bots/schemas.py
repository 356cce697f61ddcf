"""Wire forms of the bots module: conversations, turns, handovers, training examples."""

from __future__ import annotations

from marshmallow import Schema, fields

__all__ = [
    "ConversationSchema",
    "HandoverSchema",
    "TrainedModelSchema",
    "TrainingExampleSchema",
    "TurnSchema",
]


class ConversationSchema(Schema):
    """A conversation's facts and where it stands."""

    id = fields.String()
    account_id = fields.String(allow_none=True)
    debtor_id = fields.String(allow_none=True)
    channel = fields.String()
    address = fields.String(allow_none=True)
    locale = fields.String()
    state = fields.String()
    outcome = fields.String(allow_none=True)
    turn_count = fields.Integer()
    started_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    ended_at = fields.AwareDateTime(allow_none=True)


class TurnSchema(Schema):
    """One turn: the debtor's words, what the bot understood and did, and its reply."""

    seq = fields.Integer()
    message_id = fields.String(allow_none=True)
    user_text = fields.String(allow_none=True)
    intent = fields.String(allow_none=True)
    confidence = fields.Float(allow_none=True)
    language = fields.String(allow_none=True)
    entities = fields.Dict()
    actions = fields.List(fields.Dict())
    reply = fields.String()
    state_before = fields.String()
    state_after = fields.String()
    at = fields.AwareDateTime()


class HandoverSchema(Schema):
    """A conversation waiting for a person."""

    id = fields.String()
    conversation_id = fields.String()
    reason = fields.String()
    status = fields.String()
    created_at = fields.AwareDateTime()
    taken_by = fields.String(allow_none=True)
    taken_at = fields.AwareDateTime(allow_none=True)
    resolution = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    resolved_at = fields.AwareDateTime(allow_none=True)


class TrainingExampleSchema(Schema):
    """A tenant's training example."""

    id = fields.String()
    intent = fields.String()
    language = fields.String()
    text = fields.String()
    created_at = fields.AwareDateTime()


class TrainedModelSchema(Schema):
    """A retrained classifier's version."""

    version = fields.Integer()
    examples = fields.Integer()
    created_at = fields.AwareDateTime()
