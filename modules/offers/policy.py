"""Offer policies: the bounds each tenant sets on what may be offered, versioned.

A policy document is ``{currency, rules, default}``. ``rules`` are tried in order and the
first whose ``when`` holds for the account gives the terms (``when`` may name ``segments``,
``buckets`` and a score band ``score_min``..``score_max``; every criterion given must hold,
and a score band never matches an account without a score); ``default`` (required) gives the
terms of every other account. Terms bound every offer: maximum discount, minimum upfront
(a fraction of the balance and/or an amount: the larger wins), allowed instalment counts,
minimum instalment, maximum term, refinancing rate, validity and approval thresholds.

Storing a policy creates a new version and makes it the active one; a refused document lists
every fault with its JSON pointer and stores nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from almacen.gateway.errors import UnprocessableError, marshmallow_errors
from almacen.gateway.money import Money, MoneyField, currency_exponent

from .policy_tables import OfferPolicy

__all__ = [
    "Match",
    "PolicyDocumentSchema",
    "Rule",
    "Terms",
    "active_policy",
    "choose_rule",
    "load_document",
    "put_policy",
]

#: Most instalments (and months) any policy may allow: thirty years.
MAX_COUNT = 360


class StrictDecimal(fields.Decimal):
    """A decimal given as a string (``"0.25"``): a JSON number is refused, never rounded."""

    default_error_messages = {  # noqa: RUF012 (marshmallow merges these per class)
        "number": 'must be a decimal string such as "0.25", not a number',
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise self.make_error("number")
        return super()._deserialize(value, attr, data, **kwargs)


def _fraction(
    *, required: bool = False, default: str | None = None, below_one: bool = False
) -> Any:
    extra: dict[str, Any] = {} if required else {"load_default": _decimal_or_none(default)}
    return StrictDecimal(
        as_string=True,
        required=required,
        validate=validate.Range(min=0, max=1, max_inclusive=not below_one),
        **extra,
    )


def _decimal_or_none(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


class ApprovalSchema(Schema):
    """Thresholds above which an offer needs a person's approval (each optional)."""

    discount_above = _fraction()
    term_above_months = fields.Integer(
        load_default=None, validate=validate.Range(min=0, max=MAX_COUNT)
    )


class TermsSchema(Schema):
    """The bounds of the offers made to the accounts a rule (or the default) covers."""

    max_discount = _fraction(required=True, below_one=True)
    pay_in_full_discount = _fraction(default="0")
    min_upfront = _fraction(default="0")
    min_upfront_amount = MoneyField(load_default=None)
    instalment_counts = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_COUNT)),
        required=True,
        validate=validate.Length(min=1, max=60),
    )
    min_instalment = MoneyField(required=True)
    max_term_months = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_COUNT))
    refinancing_rate = _fraction(required=True)
    validity_days = fields.Integer(required=True, validate=validate.Range(min=1, max=365))
    approval = fields.Nested(ApprovalSchema, load_default=dict)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        faults: dict[str, list[str]] = {}
        if data.get("pay_in_full_discount", 0) > data.get("max_discount", 1):
            faults["pay_in_full_discount"] = ["must not exceed max_discount"]
        counts = data.get("instalment_counts") or []
        if len(set(counts)) != len(counts):
            faults["instalment_counts"] = ["counts must not repeat"]
        if data.get("min_instalment") is not None and data["min_instalment"].amount <= 0:
            faults["min_instalment"] = ["must be positive"]
        if faults:
            raise ValidationError(faults)


class MatchSchema(Schema):
    """Which accounts a rule covers; every criterion given must hold."""

    segments = fields.List(fields.String(validate=validate.Length(min=1, max=100)))
    buckets = fields.List(fields.String(validate=validate.Length(min=1, max=32)))
    score_min = fields.Integer()
    score_max = fields.Integer()

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("name at least one of segments, buckets, score_min, score_max")
        low, high = data.get("score_min"), data.get("score_max")
        if low is not None and high is not None and low > high:
            raise ValidationError("must not exceed score_max", "score_min")


class RuleSchema(TermsSchema):
    """A named rule: which accounts (``when``) and their terms."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    when = fields.Nested(MatchSchema, required=True)


class PolicyDocumentSchema(Schema):
    """A whole policy: its currency, ordered rules and the default terms."""

    currency = fields.String(required=True)
    rules = fields.List(fields.Nested(RuleSchema), load_default=list)
    default = fields.Nested(TermsSchema, required=True)


def _currency_faults(document: Mapping[str, Any]) -> list[dict[str, str]]:
    # Amounts of a policy are all in its currency (checked after the schema has loaded).
    currency = document["currency"]
    faults = []
    places = [("/default", document["default"])] + [
        (f"/rules/{index}", rule) for index, rule in enumerate(document["rules"])
    ]
    for where, terms in places:
        for name in ("min_instalment", "min_upfront_amount"):
            amount = terms.get(name)
            if isinstance(amount, Money) and amount.currency != currency:
                faults.append(
                    {
                        "pointer": f"{where}/{name}/currency",
                        "detail": f"must be the policy's currency {currency}",
                    }
                )
    seen: dict[str, int] = {}
    for index, rule in enumerate(document["rules"]):
        if rule["name"] in seen:
            faults.append(
                {
                    "pointer": f"/rules/{index}/name",
                    "detail": f"rule name {rule['name']!r} is already used by "
                    f"/rules/{seen[rule['name']]}",
                }
            )
        seen.setdefault(rule["name"], index)
    return faults


def load_document(document: Any) -> dict[str, Any]:
    """The policy document loaded (Decimals and Money), or every fault.

    :raises UnprocessableError: with one ``{"pointer", "detail"}`` per fault.
    """
    if not isinstance(document, Mapping):
        raise UnprocessableError(
            "The offer policy must be an object.", errors=[{"pointer": "/", "detail": "object"}]
        )
    faults: list[dict[str, str]] = []
    try:
        loaded: dict[str, Any] = dict(PolicyDocumentSchema().load(document))
    except ValidationError as exc:
        faults = marshmallow_errors(exc.messages)
        loaded = {}
    currency = document.get("currency")
    if isinstance(currency, str):
        try:
            currency_exponent(currency)
        except ValueError as exc:
            faults.append({"pointer": "/currency", "detail": str(exc)})
    elif "currency" in document:
        faults.append({"pointer": "/currency", "detail": "must be an ISO 4217 code"})
    if not faults:
        faults = _currency_faults(loaded)
    if faults:
        raise UnprocessableError(
            f"The offer policy has {len(faults)} fault(s); nothing was stored.", errors=faults
        )
    return loaded


def put_policy(session: Session, document: Any) -> OfferPolicy:
    """Store a new version of the tenant's policy and make it the active one.

    :raises UnprocessableError: the document has faults (all listed); nothing is stored.
    """
    loaded = load_document(document)
    latest = session.scalar(select(func.max(OfferPolicy.version))) or 0
    session.execute(update(OfferPolicy).where(OfferPolicy.active.is_(True)).values(active=False))
    policy = OfferPolicy(
        version=latest + 1, document=dict(PolicyDocumentSchema().dump(loaded)), active=True
    )
    session.add(policy)
    session.flush()
    return policy


def active_policy(session: Session) -> OfferPolicy | None:
    """The tenant's active policy, or None when it has none yet."""
    return session.scalar(select(OfferPolicy).where(OfferPolicy.active.is_(True)))


# -- typed terms ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Terms:
    """The bounds one rule (or the default) sets; what every offer it covers must respect."""

    max_discount: Decimal
    pay_in_full_discount: Decimal
    min_upfront: Decimal
    min_upfront_amount: Money | None
    instalment_counts: tuple[int, ...]
    min_instalment: Money
    max_term_months: int
    refinancing_rate: Decimal
    validity_days: int
    approval_discount_above: Decimal | None
    approval_term_above_months: int | None

    @classmethod
    def from_loaded(cls, data: Mapping[str, Any]) -> Terms:
        """Terms from a loaded (not dumped) terms mapping."""
        approval = data.get("approval") or {}
        return cls(
            max_discount=data["max_discount"],
            pay_in_full_discount=data["pay_in_full_discount"],
            min_upfront=data["min_upfront"],
            min_upfront_amount=data.get("min_upfront_amount"),
            instalment_counts=tuple(sorted(data["instalment_counts"])),
            min_instalment=data["min_instalment"],
            max_term_months=data["max_term_months"],
            refinancing_rate=data["refinancing_rate"],
            validity_days=data["validity_days"],
            approval_discount_above=approval.get("discount_above"),
            approval_term_above_months=approval.get("term_above_months"),
        )


@dataclasses.dataclass(frozen=True)
class Match:
    """Which accounts a rule covers (None: any)."""

    segments: tuple[str, ...] | None = None
    buckets: tuple[str, ...] | None = None
    score_min: int | None = None
    score_max: int | None = None

    def holds(self, *, segment: str | None, bucket: str | None, score: int | None) -> bool:
        """Whether an account with these facts is covered."""
        if self.segments is not None and segment not in self.segments:
            return False
        if self.buckets is not None and bucket not in self.buckets:
            return False
        if self.score_min is not None or self.score_max is not None:
            if score is None:
                return False
            if self.score_min is not None and score < self.score_min:
                return False
            if self.score_max is not None and score > self.score_max:
                return False
        return True


@dataclasses.dataclass(frozen=True)
class Rule:
    """A rule of the policy: its name (None for the default), coverage and terms."""

    name: str | None
    match: Match
    terms: Terms


def choose_rule(
    document: Mapping[str, Any], *, segment: str | None, bucket: str | None, score: int | None
) -> Rule:
    """The first rule of a loaded policy that covers the account, else the default."""
    for rule in document["rules"]:
        when = rule["when"]
        match = Match(
            segments=tuple(when["segments"]) if "segments" in when else None,
            buckets=tuple(when["buckets"]) if "buckets" in when else None,
            score_min=when.get("score_min"),
            score_max=when.get("score_max"),
        )
        if match.holds(segment=segment, bucket=bucket, score=score):
            return Rule(rule["name"], match, Terms.from_loaded(rule))
    return Rule(None, Match(), Terms.from_loaded(document["default"]))
