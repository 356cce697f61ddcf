"""A tenant's offers configuration, validated by marshmallow when it subscribes."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

__all__ = ["OffersConfigSchema"]


class OffersConfigSchema(Schema):
    """The offers module's settings for one tenant."""

    #: Annual rate that discounts expected payments to their present value when ranking.
    discount_rate = fields.Decimal(
        load_default="0.12", as_string=True, places=4, validate=validate.Range(min=0, max=1)
    )
    #: Probability of payment assumed when the tenant has no scoring model (stated default).
    default_propensity = fields.Decimal(
        load_default="0.30", as_string=True, places=4, validate=validate.Range(min=0, max=1)
    )
