"""Wire forms of the offers module: policies, menu requests and menus."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from almacen.gateway.money import Money, MoneyField, currency_exponent

from .menu import MenuItem

if TYPE_CHECKING:
    from .batch import MenuBatch
    from .bulk import Summary

__all__ = [
    "BatchRequestSchema",
    "CounterAnswerSchema",
    "CounterRequestSchema",
    "ExpiryRunSchema",
    "MenuRequestSchema",
    "MenuSchema",
    "OfferAcceptSchema",
    "OfferCreateSchema",
    "OfferSchema",
    "PolicySchema",
    "dump_batch",
    "dump_summary",
]


class PolicySchema(Schema):
    """A stored policy version."""

    version = fields.Integer()
    active = fields.Boolean()
    created_at = fields.AwareDateTime()
    document = fields.Dict()


class MenuRequestSchema(Schema):
    """Which account: a ledger ``account_id``, or its facts when the tenant has no ledger."""

    account_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    balance = MoneyField(load_default=None)
    bucket = fields.String(load_default=None)
    days_past_due = fields.Integer(load_default=None, validate=validate.Range(min=0))
    segment = fields.String(load_default=None)
    score = fields.Integer(load_default=None)


def _money(item: MenuItem, amount: Any) -> dict[str, str]:
    return _wire(amount, item.expected_recovery.currency)


def _wire(amount: Any, currency: str) -> dict[str, str]:
    """``Money(amount, currency).as_json()`` without making the Money: a menu dumps hundreds
    of amounts (any that Money would refuse still goes through it, and fails the same way)."""
    exponent, step = _minor_unit(currency)
    if not isinstance(amount, Decimal) or -int(amount.as_tuple().exponent) > exponent:
        return Money(amount, currency).as_json()
    return {"amount": str(amount.quantize(step)), "currency": currency}


@functools.lru_cache(maxsize=64)
def _minor_unit(currency: str) -> tuple[int, Decimal]:
    exponent = currency_exponent(currency)
    return exponent, Decimal(1).scaleb(-exponent)


def dump_item(item: MenuItem) -> dict[str, Any]:
    """One ranked offer with its schedule and disclosures."""
    offer = item.offer
    return {
        "rank": item.rank,
        "kind": offer.kind,
        "label": offer.label,
        "discount": str(item.discount),
        "forgiven": _money(item, offer.forgiven),
        "upfront": _money(item, offer.upfront),
        "term_months": item.term_months,
        "annual_rate": str(offer.annual_rate),
        "effective_annual_rate": (
            str(item.effective_annual_rate) if item.effective_annual_rate is not None else None
        ),
        "total_cost": _money(item, offer.total),
        "schedule": [
            {
                "number": row.number,
                "due_on": row.due_on.isoformat(),
                "amount": _money(item, row.amount),
                "principal": _money(item, row.principal),
                "interest": _money(item, row.interest),
            }
            for row in offer.schedule
        ],
        "expires_on": item.expires_on.isoformat(),
        "requires_approval": item.requires_approval,
        "approval_reasons": list(item.approval_reasons),
        "expected_recovery": item.expected_recovery.as_json(),
    }


def dump_summary(item: Summary, currency: str) -> dict[str, Any]:
    """One ranked offer without its schedule: what a batch lists (``POST /menu`` of the
    account gives the schedule, the same on the same day and policy version)."""

    def cash(amount: Any) -> dict[str, str]:
        return _wire(amount, currency)

    return {
        "rank": item.rank,
        "kind": item.kind,
        "label": item.label,
        "discount": str(item.discount),
        "forgiven": cash(item.forgiven),
        "upfront": cash(item.upfront),
        "instalment": cash(item.instalment) if item.instalment is not None else None,
        "term_months": item.term_months,
        "effective_annual_rate": (
            str(item.effective_annual_rate) if item.effective_annual_rate is not None else None
        ),
        "total_cost": cash(item.total),
        "expires_on": item.expires_on.isoformat(),
        "requires_approval": item.requires_approval,
        "expected_recovery": item.expected_recovery.as_json(),
    }


def dump_batch(batch: MenuBatch, *, top: int | None) -> dict[str, Any]:
    """A batch of menus: each account's best ``top`` offers (all when None), and the skipped."""
    summaries: dict[int, list[dict[str, Any]]] = {}
    items = []
    for menu in batch.menus:
        # Accounts sharing a computed menu share its dumped offers too.
        offers = summaries.get(id(menu.items))
        if offers is None:
            currency = menu.facts.balance.currency
            offers = [dump_summary(item, currency) for item in menu.items[:top]]
            summaries[id(menu.items)] = offers
        items.append(
            {
                "account_id": menu.facts.account_id,
                "balance": menu.facts.balance.as_json(),
                "bucket": menu.facts.bucket,
                "rule": menu.rule,
                "propensity": {"value": str(menu.propensity), "source": menu.propensity_source},
                "offers": offers,
            }
        )
    return {
        "computed_on": batch.computed_on.isoformat(),
        "policy_version": batch.policy_version,
        "discount_rate": str(batch.discount_rate),
        "items": items,
        "skipped": [{"account_id": s.account_id, "reason": s.reason} for s in batch.skipped],
        "next": batch.next_cursor,
    }


_ACCOUNT_ID = validate.Regexp(r"^[0-9a-f]{32}$", error="must be an account id (32 hex digits)")


class BatchRequestSchema(Schema):
    """A batch of menus: the named accounts, or a page of the tenant's open accounts."""

    account_ids = fields.List(
        fields.String(validate=_ACCOUNT_ID),
        load_default=None,
        validate=validate.Length(min=1, max=10_000),
    )
    cursor = fields.String(load_default=None, validate=_ACCOUNT_ID)
    limit = fields.Integer(load_default=1000, strict=True, validate=validate.Range(1, 10_000))
    top = fields.Integer(load_default=3, strict=True, validate=validate.Range(1, 100))

    @validates_schema
    def _names_or_pages(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("account_ids") is not None and data.get("cursor") is not None:
            raise ValidationError("give account_ids or a cursor, not both", "cursor")


class MenuSchema(Schema):
    """A computed menu (offers are not stored)."""

    account_id = fields.Function(lambda menu: menu.facts.account_id)
    balance = fields.Function(lambda menu: menu.facts.balance.as_json())
    facts_source = fields.String()
    policy_version = fields.Integer()
    rule = fields.String(allow_none=True)
    segment_source = fields.String(allow_none=True)
    propensity = fields.Function(
        lambda menu: {"value": str(menu.propensity), "source": menu.propensity_source}
    )
    discount_rate = fields.Function(lambda menu: str(menu.discount_rate))
    computed_on = fields.Date()
    offers = fields.Function(lambda menu: [dump_item(item) for item in menu.items])


# -- stored offers, negotiation and the expiry job ----------------------------------------

_ID = validate.Length(min=1, max=64)


class OfferCreateSchema(Schema):
    """Choose one offer of an account's menu: its ``kind`` and, for plans, ``count``."""

    account_id = fields.String(required=True, validate=_ID)
    kind = fields.String(required=True, validate=validate.Length(min=1, max=64))
    count = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1))
    segment = fields.String(load_default=None)
    score = fields.Integer(load_default=None)


def _positive(value: Money) -> None:
    if value.amount <= 0:
        raise ValidationError("must be a positive amount")


class CounterRequestSchema(Schema):
    """A debtor's counter: what they can pay a month, or now, on an account or an offer."""

    account_id = fields.String(load_default=None, validate=_ID)
    offer_id = fields.String(load_default=None, validate=_ID)
    monthly = MoneyField(load_default=None, validate=_positive)
    upfront = MoneyField(load_default=None, validate=_positive)
    segment = fields.String(load_default=None)
    score = fields.Integer(load_default=None)

    @validates_schema
    def _one_of_each(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("account_id") is None and data.get("offer_id") is None:
            raise ValidationError("give account_id or offer_id", "account_id")
        if (data.get("monthly") is None) == (data.get("upfront") is None):
            raise ValidationError("give exactly one of monthly and upfront", "monthly")


class OfferAcceptSchema(Schema):
    """Input of ``offers.accept``."""

    offer_id = fields.String(required=True, validate=_ID)


class ExpiryRunSchema(Schema):
    """Input of the expiry job: expire offers whose expiry is before ``as_of`` (today)."""

    as_of = fields.Date(load_default=None)


class HistorySchema(Schema):
    """One transition of an offer."""

    seq = fields.Integer()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    note = fields.String(allow_none=True)
    at = fields.AwareDateTime()


class OfferSchema(Schema):
    """A stored offer: its frozen terms, status and every transition."""

    id = fields.String()
    account_id = fields.String()
    kind = fields.String()
    label = fields.String()
    status = fields.String()
    term_months = fields.Integer()
    terms = fields.Dict()
    expires_on = fields.Date()
    requires_approval = fields.Boolean()
    policy_version = fields.Integer()
    rule = fields.String(allow_none=True)
    counter = fields.Dict(allow_none=True)
    reason = fields.String(allow_none=True)
    ledger_plan_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    history = fields.List(fields.Nested(HistorySchema))


class CounterAnswerSchema(Schema):
    """The answer to a counter: whether it is met, why, and the offer proposed."""

    met = fields.Boolean()
    reason = fields.String()
    counter = fields.Dict()
    countered_offer_id = fields.String(allow_none=True)
    offer = fields.Nested(OfferSchema)
