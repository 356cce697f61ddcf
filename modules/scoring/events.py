"""The scoring module's event types and their payload schemas."""

from __future__ import annotations

from marshmallow import Schema, fields

from almacen import EventType

__all__ = ["ALL", "DRIFT_DETECTED", "MODEL_ACTIVATED", "SEGMENT_CHANGED"]


class ModelActivatedSchema(Schema):
    """Payload of ``scoring.model_activated``."""

    model_id = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    purpose = fields.String(required=True)
    role = fields.String(required=True)


class SegmentChangedSchema(Schema):
    """Payload of ``scoring.segment_changed``."""

    account_id = fields.String(required=True)
    old = fields.String(required=True, allow_none=True)
    new = fields.String(required=True)
    treatments = fields.List(fields.String(), required=True)
    score = fields.Integer(allow_none=True)


class DriftDetectedSchema(Schema):
    """Payload of ``scoring.drift_detected``."""

    model_id = fields.String(required=True)
    psi = fields.Decimal(required=True, as_string=True)
    threshold = fields.Decimal(required=True, as_string=True)
    window_from = fields.DateTime(required=True)
    window_to = fields.DateTime(required=True)


MODEL_ACTIVATED = EventType(
    name="scoring.model_activated",
    schema=ModelActivatedSchema,
    description="A model version became the tenant's champion or a challenger.",
)
SEGMENT_CHANGED = EventType(
    name="scoring.segment_changed",
    schema=SegmentChangedSchema,
    description="Segmentation moved an account to another segment.",
)
DRIFT_DETECTED = EventType(
    name="scoring.drift_detected",
    schema=DriftDetectedSchema,
    description="A model's score distribution drifted past the tenant's PSI threshold.",
)
ALL = (MODEL_ACTIVATED, SEGMENT_CHANGED, DRIFT_DETECTED)
