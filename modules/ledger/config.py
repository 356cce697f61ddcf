"""A tenant's ledger configuration, validated by marshmallow when it subscribes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from .debtors import is_time_zone

__all__ = ["COMPONENTS", "DEFAULT_BUCKETS", "LedgerConfigSchema"]

#: Receivable components, in the default allocation order (fees → interest → principal).
COMPONENTS = ("fees", "penalties", "interest", "principal")
#: Lower edges (days past due) of the default aging buckets; the first is "current".
DEFAULT_BUCKETS: list[dict[str, Any]] = [
    {"name": "current", "from_days": 0},
    {"name": "1-30", "from_days": 1},
    {"name": "31-60", "from_days": 31},
    {"name": "61-90", "from_days": 61},
    {"name": "91-120", "from_days": 91},
    {"name": "121-180", "from_days": 121},
    {"name": "180+", "from_days": 181},
]


class BucketSchema(Schema):
    """One aging bucket: its name and the first day past due it covers."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=20))
    from_days = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class LedgerConfigSchema(Schema):
    """The ledger's settings for one tenant."""

    #: Order in which a payment pays components, oldest instalment first.
    waterfall = fields.List(
        fields.String(validate=validate.OneOf(COMPONENTS)),
        load_default=list(COMPONENTS),
    )
    #: Name of the allocation strategy (``waterfall``, or one a plugin adds).
    allocation = fields.String(load_default="waterfall", validate=validate.Length(min=1))
    buckets = fields.List(fields.Nested(BucketSchema), load_default=DEFAULT_BUCKETS)
    #: Days past due at which accounts of each product type are charged off.
    charge_off_days = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=40)),
        values=fields.Integer(strict=True, validate=validate.Range(min=1)),
        load_default=dict,
    )
    promise_grace_days = fields.Integer(strict=True, load_default=3, validate=validate.Range(0, 60))
    #: Share of the promised amount that may be missing and the promise still count as kept.
    promise_tolerance = fields.Decimal(
        as_string=True, load_default=Decimal("0"), validate=validate.Range(0, 1), places=4
    )
    max_open_promises = fields.Integer(strict=True, load_default=1, validate=validate.Range(1, 10))
    # == plans and settlements (item 6) ==
    #: Days an instalment of a payment plan may stay unpaid after its due date before the
    #: plan counts as broken (checked by the aging job).
    plan_broken_after_days = fields.Integer(
        strict=True, load_default=30, validate=validate.Range(0, 365)
    )
    #: What breaking a plan does: ``keep`` its schedule, or ``revert`` to the original one.
    on_plan_broken = fields.String(load_default="keep", validate=validate.OneOf(["keep", "revert"]))
    #: Nominal annual rate (a fraction) charged on what a payment plan refinances; 0 splits
    #: the balance into equal instalments.
    refinancing_rate = fields.Decimal(
        as_string=True, load_default=Decimal("0"), validate=validate.Range(0, 10), places=8
    )

    #: Age the accounts every day from ``almacen worker`` (else: ``POST /jobs/aging``).
    daily_aging = fields.Boolean(load_default=False)
    #: The tenant's IANA time zone: the daily run ages as of the date there.
    time_zone = fields.String(load_default="UTC")

    @validates("time_zone")
    def _known_time_zone(self, value: str, **_: Any) -> None:
        if not is_time_zone(value):
            raise ValidationError(f"{value!r} is not an IANA time zone")

    @validates("waterfall")
    def _complete_waterfall(self, value: list[str], **_: Any) -> None:
        if sorted(value) != sorted(COMPONENTS):
            raise ValidationError(f"must order each of {', '.join(COMPONENTS)} exactly once")

    @validates_schema
    def _buckets_ordered(self, data: dict[str, Any], **_: Any) -> None:
        buckets = data.get("buckets") or []
        edges = [bucket["from_days"] for bucket in buckets]
        names = [bucket["name"] for bucket in buckets]
        if not buckets or edges[0] != 0:
            raise ValidationError("the first bucket must start at 0 days", "buckets")
        if edges != sorted(set(edges)):
            raise ValidationError("bucket edges must strictly increase", "buckets")
        if len(set(names)) != len(names):
            raise ValidationError("bucket names must be unique", "buckets")
