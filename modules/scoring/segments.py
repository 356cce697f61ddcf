"""Segmentation: ordered rules map each account to a segment and its treatment tags.

A tenant's rules are a versioned document: ``rules`` (``{name, if, segment, treatments}``,
first match wins) and a required ``default`` (``{segment, treatments}``) for an account no
rule matches. Conditions are written in the blueprints' expression language
(:mod:`almacen.gateway.services.expressions`) and checked when the rules are stored, so a typo
is a 422 then, not a wrong segment later. The names a condition may read are :data:`NAMES`.

Assignments keep history: an account's current row has ``ended_at`` None; a change of segment
ends it, inserts the new one and emits ``scoring.segment_changed`` in the same transaction.
Re-assigning the same segment refreshes the current row (score, balance, treatments) and
emits nothing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from almacen import ActionInputError, ActionUnavailableError, emit, run_action
from almacen.gateway.db import utcnow
from almacen.gateway.errors import ConflictError, NotFoundError, UnprocessableError
from almacen.gateway.money import Money
from almacen.gateway.pagination import Page, paginate
from almacen.gateway.services.expressions import (
    ANY,
    LEAF,
    ExpressionError,
    Shape,
    check_expression,
    evaluate,
)

from . import events
from .segment_tables import SegmentAssignment, SegmentRuleSet

__all__ = [
    "NAMES",
    "AccountInput",
    "Assigned",
    "SegmentRow",
    "active_rules",
    "assign",
    "check_rules",
    "choose",
    "history",
    "put_rules",
    "report",
]

#: The shape of a ledger account id: only those are worth asking the ledger about.
LEDGER_ID = re.compile(r"[0-9a-f]{32}")

#: What a segment condition may read, with its shape (see the expressions module).
#: ``probability`` and ``balance`` are Decimals: compare them with ``decimal('0.5')``.
NAMES: dict[str, Shape] = {
    "score": LEAF,
    "probability": LEAF,
    "band": LEAF,
    "features": ANY,
    "bucket": LEAF,
    "days_past_due": LEAF,
    "balance": LEAF,
}


@dataclasses.dataclass(frozen=True)
class AccountInput:
    """What is known of an account when it is segmented (given, or read from the modules)."""

    account_id: str
    score: int | None = None
    probability: Decimal | None = None
    band: str | None = None
    features: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    bucket: str | None = None
    days_past_due: int | None = None
    balance: Money | None = None
    #: Where values came from besides the request: ``ledger``, ``scoring``.
    sources: tuple[str, ...] = ()

    def names(self) -> dict[str, Any]:
        """The values a condition sees, by :data:`NAMES`."""
        return {
            "score": self.score,
            "probability": self.probability,
            "band": self.band,
            "features": dict(self.features),
            "bucket": self.bucket,
            "days_past_due": self.days_past_due,
            "balance": self.balance.amount if self.balance is not None else None,
        }


@dataclasses.dataclass(frozen=True)
class Assigned:
    """One account's segmentation outcome."""

    account_id: str
    segment: str
    treatments: list[str]
    rule: str | None
    previous: str | None
    changed: bool
    score: int | None
    rule_set_version: int
    sources: list[str]
    #: Rules that could not be evaluated for this account (a missing value, a type error):
    #: each ``{"rule", "detail"}``; such a rule does not match.
    skipped: list[dict[str, str]]


@dataclasses.dataclass(frozen=True)
class SegmentRow:
    """One segment of the report: its accounts and their balances per currency."""

    segment: str
    accounts: int
    share: Decimal
    balances: list[Money]


# -- rules ---------------------------------------------------------------------------------


def check_rules(rules: Sequence[Mapping[str, Any]], default: Any) -> list[dict[str, str]]:
    """Every fault of a rule document, each ``{"pointer", "detail"}``; empty when valid."""
    faults: list[dict[str, str]] = []
    if not isinstance(default, Mapping) or not default.get("segment"):
        faults.append(
            {
                "pointer": "/default",
                "detail": "a default segment is required: {segment, treatments} for accounts "
                "no rule matches",
            }
        )
    seen: dict[str, int] = {}
    for index, rule in enumerate(rules):
        name = str(rule.get("name", ""))
        if name in seen:
            faults.append(
                {
                    "pointer": f"/rules/{index}/name",
                    "detail": f"rule name {name!r} is already used by /rules/{seen[name]}",
                }
            )
        seen.setdefault(name, index)
        for fault in check_expression(str(rule.get("if", "")), NAMES):
            faults.append({"pointer": f"/rules/{index}/if", "detail": fault})
    return faults


def put_rules(
    session: Session, *, rules: Sequence[Mapping[str, Any]], default: Any
) -> SegmentRuleSet:
    """Store a new version of the tenant's rules and make it the active one.

    :raises UnprocessableError: the document has faults (all of them listed, with pointers);
        nothing is stored.
    """
    faults = check_rules(rules, default)
    if faults:
        raise UnprocessableError(
            f"The segment rules have {len(faults)} fault(s); nothing was stored.", errors=faults
        )
    latest = session.scalar(select(func.max(SegmentRuleSet.version))) or 0
    session.execute(
        update(SegmentRuleSet).where(SegmentRuleSet.active.is_(True)).values(active=False)
    )
    rule_set = SegmentRuleSet(
        version=latest + 1,
        rules=[
            {
                "name": rule["name"],
                "if": rule["if"],
                "segment": rule["segment"],
                "treatments": list(rule.get("treatments", [])),
            }
            for rule in rules
        ],
        default_segment={
            "segment": default["segment"],
            "treatments": list(default.get("treatments", [])),
        },
        active=True,
    )
    session.add(rule_set)
    session.flush()
    return rule_set


def active_rules(session: Session, *, version: int | None = None) -> SegmentRuleSet:
    """The tenant's active rule set, or the given version of it.

    :raises NotFoundError: the tenant has no rules (or no such version).
    """
    statement = select(SegmentRuleSet)
    if version is None:
        statement = statement.where(SegmentRuleSet.active.is_(True))
    else:
        statement = statement.where(SegmentRuleSet.version == version)
    found = session.scalar(statement)
    if found is None:
        what = "segment rules" if version is None else f"version {version} of the segment rules"
        raise NotFoundError(f"The tenant has no {what}; PUT /segments/rules first.")
    return found


def choose(
    rule_set: SegmentRuleSet, values: Mapping[str, Any]
) -> tuple[str, list[str], str | None, list[dict[str, str]]]:
    """The first rule whose condition holds: (segment, treatments, rule name, skipped).

    A rule that cannot be evaluated for these values (a missing score compared with a
    number, say) does not match; it is reported in ``skipped``. No match: the default.
    """
    skipped: list[dict[str, str]] = []
    for rule in rule_set.rules:
        try:
            matched = bool(evaluate(rule["if"], values))
        except ExpressionError as exc:
            skipped.append({"rule": rule["name"], "detail": str(exc)})
            continue
        if matched:
            return rule["segment"], list(rule["treatments"]), rule["name"], skipped
    default = rule_set.default_segment
    return default["segment"], list(default["treatments"]), None, skipped


# -- inputs --------------------------------------------------------------------------------


def complete(session: Session, given: AccountInput) -> AccountInput:
    """Fill what the caller did not give from the ledger and scoring, when the tenant has them.

    Given values win. Without the ledger (or the account in it), or without scoring, the
    given values are used as they are: segmentation degrades, it does not fail.
    """
    sources: list[str] = []
    # not dataclasses.asdict: it would turn the Money into a dict
    values = {field.name: getattr(given, field.name) for field in dataclasses.fields(given)}
    wanted = given.bucket is None or given.days_past_due is None or given.balance is None
    if wanted and LEDGER_ID.fullmatch(given.account_id):
        try:
            summary = run_action(session, "ledger.get_account", {"account_id": given.account_id})
        except (ActionUnavailableError, ActionInputError, NotFoundError):
            summary = None
        if summary is not None:
            sources.append("ledger")
            if values["bucket"] is None:
                values["bucket"] = summary.get("bucket")
            if values["days_past_due"] is None:
                values["days_past_due"] = summary.get("days_past_due")
            total = summary.get("total")
            if values["balance"] is None and total:
                values["balance"] = Money(Decimal(total["amount"]), total["currency"])
    if given.score is None and (given.features or LEDGER_ID.fullmatch(given.account_id)):
        try:
            scored = run_action(session, "scoring.score", _score_input(values))
        except (ActionUnavailableError, ActionInputError, NotFoundError, UnprocessableError):
            scored = None
        if scored is not None:
            sources.append("scoring")
            values["score"] = scored.get("score")
            if values["probability"] is None and scored.get("probability") is not None:
                values["probability"] = Decimal(str(scored["probability"]))
            if values["band"] is None:
                values["band"] = scored.get("band")
    values["sources"] = tuple(sources)
    return AccountInput(**values)


def _score_input(values: Mapping[str, Any]) -> dict[str, Any]:
    # ``scoring.score`` with the tenant's champion risk model: the features the caller gave,
    # and the account id when it is a ledger id (the engine reads the rest from the ledger).
    body: dict[str, Any] = {"purpose": "risk"}
    if LEDGER_ID.fullmatch(values["account_id"]):
        body["account_id"] = values["account_id"]
    if values["features"]:
        body["features"] = dict(values["features"])
    return body


# -- assigning -----------------------------------------------------------------------------


def assign(session: Session, accounts: Sequence[AccountInput]) -> tuple[int, list[Assigned]]:
    """Segment each account with the active rules; store changes with history.

    :return: the rule set's version and one outcome per account, in order.
    :raises NotFoundError: the tenant has no segment rules.
    """
    rule_set = active_rules(session)
    outcomes = []
    for given in accounts:
        account = complete(session, given)
        segment, treatments, rule, skipped = choose(rule_set, account.names())
        previous = _record(session, account, segment, treatments, rule, rule_set.version)
        outcomes.append(
            Assigned(
                account_id=account.account_id,
                segment=segment,
                treatments=treatments,
                rule=rule,
                previous=previous,
                changed=previous != segment,
                score=account.score,
                rule_set_version=rule_set.version,
                sources=list(account.sources),
                skipped=skipped,
            )
        )
    return rule_set.version, outcomes


def _record(
    session: Session,
    account: AccountInput,
    segment: str,
    treatments: list[str],
    rule: str | None,
    version: int,
) -> str | None:
    """Store the outcome; return the account's previous segment (None: it had none)."""
    current = session.scalar(
        select(SegmentAssignment)
        .where(
            SegmentAssignment.account_id == account.account_id,
            SegmentAssignment.ended_at.is_(None),
        )
        .with_for_update()
    )
    balance = account.balance
    if current is not None and current.segment == segment:
        current.treatments = treatments
        current.rule = rule
        current.score = account.score
        current.rule_set_version = version
        if balance is not None:
            current.balance, current.currency = balance.amount, balance.currency
        return segment
    now = utcnow()
    previous = None
    if current is not None:
        previous = current.segment
        current.ended_at = now
        # the partial unique index allows one current row: end this one before the insert
        session.flush()
    row = SegmentAssignment(
        account_id=account.account_id,
        segment=segment,
        treatments=treatments,
        rule=rule,
        score=account.score,
        balance=balance.amount if balance is not None else None,
        currency=balance.currency if balance is not None else None,
        rule_set_version=version,
        assigned_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # a concurrent request assigned the account's first segment: one current row only
        raise ConflictError(
            f"Account {account.account_id!r} was assigned concurrently; retry.",
            account_id=account.account_id,
        ) from None
    emit(
        session,
        events.SEGMENT_CHANGED,
        {
            "account_id": account.account_id,
            "old": previous,
            "new": segment,
            "treatments": treatments,
            "score": account.score,
        },
        subject=("account", account.account_id),
    )
    return previous


# -- reading -------------------------------------------------------------------------------


def history(
    session: Session, *, account_id: str | None, limit: int, cursor: str | None
) -> Page[SegmentAssignment]:
    """An account's assignments, oldest first (its history); without one, current rows."""
    statement = select(SegmentAssignment)
    if account_id is not None:
        statement = statement.where(SegmentAssignment.account_id == account_id)
    else:
        statement = statement.where(SegmentAssignment.ended_at.is_(None))
    return paginate(
        session,
        statement,
        keys=(SegmentAssignment.assigned_at, SegmentAssignment.id),
        limit=limit,
        cursor=cursor,
    )


def report(session: Session) -> tuple[int, list[SegmentRow]]:
    """Current accounts and their balances (summed per currency, exactly) by segment."""
    counts: dict[str, int] = {
        segment: count
        for segment, count in session.execute(
            select(SegmentAssignment.segment, func.count())
            .where(SegmentAssignment.ended_at.is_(None))
            .group_by(SegmentAssignment.segment)
        )
    }
    sums: dict[str, list[Money]] = {}
    for segment, currency, amount in session.execute(
        select(
            SegmentAssignment.segment,
            SegmentAssignment.currency,
            func.sum(SegmentAssignment.balance),
        )
        .where(SegmentAssignment.ended_at.is_(None), SegmentAssignment.currency.is_not(None))
        .group_by(SegmentAssignment.segment, SegmentAssignment.currency)
        .order_by(SegmentAssignment.currency)
    ):
        sums.setdefault(segment, []).append(
            Money.rounded(_exact(amount, SegmentAssignment.balance.type), str(currency))
        )
    total = sum(counts.values())
    rows = [
        SegmentRow(
            segment=segment,
            accounts=count,
            share=(Decimal(count) / Decimal(total)).quantize(Decimal("0.0001")),
            balances=sums.get(segment, []),
        )
        for segment, count in sorted(counts.items())
    ]
    return total, rows


def _exact(value: Any, column_type: Any) -> Decimal:
    # SUM over an ExactDecimal column comes back raw: scaled integers on SQLite.
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value).scaleb(-column_type.scale)
    return Decimal(str(value))
