"""How events are shown: the event log, the admin's dead letters and the catalogues."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from ..jsonschema import json_schema
from ..module import Action, EventType

__all__ = ["AdminEventSchema", "CauseSchema", "EventSchema", "action_entry", "event_type_entry"]


class SubjectSchema(Schema):
    type = fields.String()
    id = fields.String()


class CauseSchema(Schema):
    """The blueprint rule (and experiment arm) that caused the event, if any."""

    event_id = fields.String(attribute="cause_id", allow_none=True)
    service = fields.String(allow_none=True)
    rule = fields.String(allow_none=True)
    arm = fields.String(allow_none=True)
    depth = fields.Integer()


class DeliverySchema(Schema):
    status = fields.String()
    attempts = fields.Integer()
    delivered_at = fields.AwareDateTime(allow_none=True)
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    failed_consumers = fields.List(fields.String(), allow_none=True)


class EventSchema(Schema):
    """An entry of a tenant's event log (``GET /v1/events``)."""

    id = fields.String()
    type = fields.String()
    version = fields.Integer()
    subject = fields.Nested(SubjectSchema, allow_none=True)
    payload = fields.Dict()
    occurred_at = fields.AwareDateTime()
    cause = fields.Function(lambda event: CauseSchema().dump(event) if event.depth else None)
    delivery = fields.Function(lambda event: DeliverySchema().dump(event))


class AdminEventSchema(EventSchema):
    """An event as operators see it: with its tenant and the last consumer error."""

    tenant_id = fields.String()
    last_error = fields.String(allow_none=True)


def event_type_entry(event_type: EventType) -> dict[str, Any]:
    """An entry of the event catalogue, its payload schema as JSON Schema."""
    return {
        "name": event_type.name,
        "module": event_type.module,
        "version": event_type.version,
        "description": event_type.description,
        "schema": json_schema(event_type.schema),
    }


def action_entry(action: Action) -> dict[str, Any]:
    """An entry of the action catalogue, input and output as JSON Schema."""
    return {
        "name": action.name,
        "module": action.module,
        "description": action.description,
        "input_schema": json_schema(action.input_schema),
        "output_schema": json_schema(action.output_schema),
    }
