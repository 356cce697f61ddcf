"""Wire forms of the offers module: policies, menu requests and menus."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from almacen.gateway.money import Money, MoneyField

from .menu import MenuItem

__all__ = ["MenuRequestSchema", "MenuSchema", "PolicySchema"]


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
    return Money(amount, item.expected_recovery.currency).as_json()


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


class MenuSchema(Schema):
    """A computed menu (offers are not stored)."""

    account_id = fields.Function(lambda menu: menu.facts.account_id)
    balance = fields.Function(lambda menu: menu.facts.balance.as_json())
    facts_source = fields.String()
    policy_version = fields.Integer()
    rule = fields.String(allow_none=True)
    propensity = fields.Function(
        lambda menu: {"value": str(menu.propensity), "source": menu.propensity_source}
    )
    discount_rate = fields.Function(lambda menu: str(menu.discount_rate))
    computed_on = fields.Date()
    offers = fields.Function(lambda menu: [dump_item(item) for item in menu.items])
