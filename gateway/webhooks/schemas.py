"""Marshmallow schemas that dump webhook endpoints, deliveries and attempts for the API."""

from __future__ import annotations

from marshmallow import Schema, fields

__all__ = ["AttemptSchema", "DeliverySchema", "EndpointSchema"]


class EndpointSchema(Schema):
    """An endpoint without its secrets (they are shown once, on creation and rotation)."""

    id = fields.String()
    url = fields.String()
    description = fields.String()
    filters = fields.List(fields.String())
    enabled = fields.Boolean()
    previous_secret_expires_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class AttemptSchema(Schema):
    """One HTTP attempt of a delivery."""

    attempted_at = fields.AwareDateTime()
    status_code = fields.Integer(allow_none=True)
    duration_ms = fields.Integer()
    error = fields.String(allow_none=True)
    response_excerpt = fields.String(allow_none=True)


class DeliverySchema(Schema):
    """A delivery's state; its attempt log is added by the handler."""

    id = fields.String()
    webhook_id = fields.String(attribute="endpoint_id")
    event_id = fields.String()
    event_type = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    last_attempt_at = fields.AwareDateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
