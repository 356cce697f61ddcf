"""A tenant's scoring configuration, validated by marshmallow when it subscribes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

__all__ = ["ScoringConfigSchema"]


class ScoringConfigSchema(Schema):
    """The scoring module's settings for one tenant."""

    #: A record without a characteristic: ``bin`` scores it in the characteristic's missing
    #: bin; ``reject`` answers 422. A model document may override it.
    missing = fields.String(load_default="bin", validate=validate.OneOf(["bin", "reject"]))
    #: Population stability index above which ``scoring.drift_detected`` is emitted.
    drift_threshold = fields.Decimal(
        load_default="0.25", as_string=True, places=4, validate=validate.Range(min=0)
    )
    #: Probability assumed for propensity when a caller has no model (documented default).
    default_propensity = fields.Decimal(
        load_default="0.30", as_string=True, places=4, validate=validate.Range(min=0, max=1)
    )
