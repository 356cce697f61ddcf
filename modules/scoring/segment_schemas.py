"""Marshmallow schemas of segmentation: an account's inputs, outcomes, rules, the report.

The action ``scoring.segment`` and the HTTP handlers share them, so an account is read and
an outcome written the same way on every path.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from almacen.gateway.money import MoneyField

from .segments import AccountInput

__all__ = [
    "AccountInputSchema",
    "AccountsInputSchema",
    "AssignedManySchema",
    "AssignedSchema",
    "AssignmentSchema",
    "RuleSetSchema",
    "SegmentRowSchema",
]


class AccountInputSchema(Schema):
    """What the caller knows of an account; the rest comes from the ledger and scoring."""

    account_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    score = fields.Integer(load_default=None, allow_none=True)
    probability = fields.Decimal(
        load_default=None, allow_none=True, validate=validate.Range(min=0, max=1)
    )
    band = fields.String(load_default=None, allow_none=True)
    features = fields.Dict(keys=fields.String(), load_default=dict)
    bucket = fields.String(load_default=None, allow_none=True)
    days_past_due = fields.Integer(load_default=None, allow_none=True)
    balance = MoneyField(load_default=None, allow_none=True)

    @post_load
    def _make(self, data: dict[str, Any], **kwargs: Any) -> AccountInput:
        return AccountInput(**data)


class AssignedSchema(Schema):
    """One account's segmentation outcome."""

    account_id = fields.String()
    segment = fields.String()
    treatments = fields.List(fields.String())
    rule = fields.String(allow_none=True)
    previous = fields.String(allow_none=True)
    changed = fields.Boolean()
    score = fields.Integer(allow_none=True)
    rule_set_version = fields.Integer()
    sources = fields.List(fields.String())
    skipped = fields.List(fields.Dict(keys=fields.String(), values=fields.String()))


class AccountsInputSchema(Schema):
    """Input of ``scoring.segment_many``: up to 10,000 accounts, each as ``scoring.segment``."""

    accounts = fields.List(
        fields.Nested(AccountInputSchema), required=True, validate=validate.Length(1, 10_000)
    )


class AssignedManySchema(Schema):
    """Output of ``scoring.segment_many``: one outcome per account, in order."""

    items = fields.List(fields.Nested(AssignedSchema))


class AssignmentSchema(Schema):
    """A stored assignment: a segment from ``assigned_at`` until ``ended_at``."""

    id = fields.String()
    account_id = fields.String()
    segment = fields.String()
    treatments = fields.List(fields.String())
    rule = fields.String(allow_none=True)
    score = fields.Integer(allow_none=True)
    balance = fields.Method("_balance")
    rule_set_version = fields.Integer()
    assigned_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)

    def _balance(self, row: Any) -> dict[str, str] | None:
        from almacen.gateway.money import Money

        if row.balance is None or row.currency is None:
            return None
        return Money.rounded(row.balance, row.currency).as_json()


class RuleSchema(Schema):
    """One segment rule."""

    name = fields.String()
    if_ = fields.String(data_key="if", attribute="if")
    segment = fields.String()
    treatments = fields.List(fields.String())


class DefaultSchema(Schema):
    """The segment of accounts no rule matches."""

    segment = fields.String()
    treatments = fields.List(fields.String())


class RuleSetSchema(Schema):
    """A version of a tenant's segment rules."""

    version = fields.Integer()
    active = fields.Boolean()
    rules = fields.List(fields.Nested(RuleSchema))
    default = fields.Nested(DefaultSchema, attribute="default_segment")
    created_at = fields.DateTime()


class SegmentRowSchema(Schema):
    """One segment of the report."""

    segment = fields.String()
    accounts = fields.Integer()
    share = fields.Decimal(as_string=True)
    balances = fields.List(MoneyField())
