"""The menu of one account for the session's tenant: facts, policy rule, propensity, offers.

Facts come from the ledger (``ledger.get_accounts``) when the caller names an ``account_id``;
a tenant without the ledger gives them in the request instead. The propensity to pay comes
from ``scoring.score`` (the tenant's champion ``propensity`` model) when scoring can answer,
else from the tenant's stated ``default_propensity``. When the request names no segment,
scoring's segment rules choose one (``scoring.segment``); when the tenant has the calendar,
monthly due dates move to the next business day (``calendar.add_business_days``). Modules
meet only through actions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from almacen import ActionInputError, ActionUnavailableError, run_action
from almacen.gateway.actions import find_action
from almacen.gateway.errors import NotFoundError, UnprocessableError
from almacen.gateway.money import Money

from .menu import Facts, MenuItem, OfferType, build_menu, offer_types
from .policy import Rule, Terms, active_policy, choose_rule, load_document
from .settings import settings_for

__all__ = [
    "Menu",
    "business_day_roller",
    "has_action",
    "menu_for",
    "propensities_for",
    "propensity_for",
    "segment_for",
    "segments_for",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Menu:
    """A computed menu: what it was computed from and its ranked offers."""

    facts: Facts
    facts_source: str
    policy_version: int
    rule: str | None
    #: Where the segment that chose the rule came from: ``request``, ``scoring`` or None.
    segment_source: str | None
    propensity: Decimal
    propensity_source: str
    discount_rate: Decimal
    computed_on: dt.date
    items: list[MenuItem]
    #: The terms of the rule the menu was built under (negotiation measures counters by them).
    terms: Terms


def _ledger_facts(session: Session, data: Mapping[str, Any]) -> Facts:
    account_id = data["account_id"]
    try:
        # The bulk facts of one account: the balance, days past due and bucket a menu needs
        # in two queries, not the full summary (components, next instalment) in four.
        found = run_action(session, "ledger.get_accounts", {"account_ids": [account_id]})
    except ActionUnavailableError:
        raise UnprocessableError(
            "The tenant has no ledger: give balance, bucket and days_past_due instead of "
            "account_id.",
            errors=[{"pointer": "/account_id", "detail": "the ledger is not available"}],
        ) from None
    except ActionInputError:
        raise NotFoundError(f"No account {account_id!r}.") from None
    if not found["items"]:
        raise NotFoundError(f"No account {account_id!r}.")
    summary = found["items"][0]
    total = summary["total"]
    return Facts(
        balance=Money(Decimal(total["amount"]), total["currency"]),
        bucket=summary.get("bucket"),
        days_past_due=summary.get("days_past_due"),
        segment=data.get("segment"),
        score=data.get("score"),
        account_id=account_id,
    )


def has_action(session: Session, name: str) -> bool:
    """Whether the session's tenant may run action ``name`` (installed and subscribed)."""
    registry = session.info.get("registry")
    if registry is None:
        return False
    try:
        find_action(registry, session, name)
    except ActionUnavailableError:
        return False
    return True


def propensity_for(session: Session, facts: Facts, default: Decimal) -> tuple[Decimal, str]:
    """The account's propensity to pay from ``scoring.score`` (the champion ``propensity``
    model), else ``default``; and which one it is (``scoring`` or ``default``)."""
    if facts.account_id is None:
        return default, "default"
    try:
        scored = run_action(
            session,
            "scoring.score",
            {"purpose": "propensity", "account_id": facts.account_id, "record": False},
        )
    except (ActionUnavailableError, ActionInputError, NotFoundError, UnprocessableError):
        return default, "default"
    return _propensity(scored.get("probability"), default)


def propensities_for(
    session: Session, accounts: Sequence[Facts], default: Decimal
) -> list[tuple[Decimal, str]]:
    """:func:`propensity_for` of many accounts with one ``scoring.score_many`` call.

    The ledger facts the batch already read go along as features (the model reads any other
    from the ledger); when the call cannot score them all, each account is asked alone.
    """
    if not accounts:
        return []
    items = [{"account_id": facts.account_id, "features": _features(facts)} for facts in accounts]
    try:
        scored = run_action(
            session,
            "scoring.score_many",
            {"purpose": "propensity", "items": items, "record": False},
        )
    except NotFoundError:
        # No champion propensity model: every account would get the default alone too.
        return [(default, "default")] * len(accounts)
    except (ActionUnavailableError, ActionInputError, UnprocessableError):
        return [propensity_for(session, facts, default) for facts in accounts]
    return [_propensity(result.get("probability"), default) for result in scored["items"]]


def _features(facts: Facts) -> dict[str, Any]:
    # Scoring's ledger feature names (see almacen.modules.scoring.features).
    return {
        "days_past_due": facts.days_past_due,
        "bucket": facts.bucket,
        "balance": str(facts.balance.amount),
    }


def _propensity(probability: Any, default: Decimal) -> tuple[Decimal, str]:
    if probability is None:
        return default, "default"
    return Decimal(str(probability)).quantize(Decimal("0.0001")), "scoring"


def segment_for(session: Session, facts: Facts) -> str | None:
    """The account's segment from scoring's rules (``scoring.segment``), or None when the
    tenant has no scoring, no segment rules, or the account is not the ledger's.

    ``scoring.segment`` keeps the assignment with history (recording only a change), as
    segmenting the account anywhere else would.
    """
    if facts.account_id is None:
        return None
    data: dict[str, Any] = {"account_id": facts.account_id}
    if facts.score is not None:
        data["score"] = facts.score
    try:
        assigned = run_action(session, "scoring.segment", data)
    except (ActionUnavailableError, ActionInputError, NotFoundError, UnprocessableError):
        return None
    segment = assigned.get("segment")
    return str(segment) if segment else None


def segments_for(session: Session, accounts: Sequence[Facts]) -> list[str | None]:
    """:func:`segment_for` of many ledger accounts with one ``scoring.segment_many`` call,
    the ledger facts the batch already read given (so scoring need not read them again).

    No segment rules: no segments. When the call cannot segment them all, each is asked alone.
    """
    if not accounts:
        return []
    given = [
        {
            "account_id": facts.account_id,
            "bucket": facts.bucket,
            "days_past_due": facts.days_past_due,
            "balance": facts.balance.as_json(),
            **({"score": facts.score} if facts.score is not None else {}),
        }
        for facts in accounts
    ]
    try:
        assigned = run_action(session, "scoring.segment_many", {"accounts": given})
    except NotFoundError:
        return [None] * len(accounts)
    except (ActionUnavailableError, ActionInputError, UnprocessableError):
        return [segment_for(session, facts) for facts in accounts]
    return [str(item["segment"]) if item.get("segment") else None for item in assigned["items"]]


def business_day_roller(session: Session) -> Callable[[dt.date], dt.date] | None:
    """Moves a date to the next business day by the tenant's calendar, through
    ``calendar.add_business_days`` (0 days: the day itself when it is a business day); None
    when the tenant has no calendar. Answers are remembered for the roller's life."""
    if not has_action(session, "calendar.add_business_days"):
        return None
    known: dict[dt.date, dt.date] = {}

    def roll(day: dt.date) -> dt.date:
        if day not in known:
            answer = run_action(
                session, "calendar.add_business_days", {"date": day.isoformat(), "days": 0}
            )
            known[day] = dt.date.fromisoformat(answer["result"])
        return known[day]

    return roll


def menu_for(
    session: Session,
    data: Mapping[str, Any],
    *,
    today: dt.date,
    extra_types: Sequence[OfferType] = (),
) -> Menu:
    """The ranked menu of the account ``data`` names (or describes).

    ``extra_types`` add offers beside the plugins' (negotiation adds the debtor's own lump sum).

    :raises UnprocessableError: the tenant has no policy yet, or the account's currency is
        not the policy's.
    :raises NotFoundError: no such account in the tenant's ledger.
    """
    policy = active_policy(session)
    if policy is None:
        raise UnprocessableError(
            "The tenant has no offer policy yet; PUT /v1/offers/policy first.",
            errors=[{"pointer": "/", "detail": "no offer policy"}],
        )
    if data.get("account_id") is not None:
        facts, source = _ledger_facts(session, data), "ledger"
    else:
        facts, source = (
            Facts(
                balance=data["balance"],
                bucket=data.get("bucket"),
                days_past_due=data.get("days_past_due"),
                segment=data.get("segment"),
                score=data.get("score"),
            ),
            "request",
        )
    document = load_document(policy.document)
    if facts.balance.currency != document["currency"]:
        raise UnprocessableError(
            f"The account is in {facts.balance.currency}; the offer policy in "
            f"{document['currency']}.",
            errors=[{"pointer": "/balance/currency", "detail": "not the policy's currency"}],
        )
    segment_source = "request" if facts.segment is not None else None
    if facts.segment is None:
        segment = segment_for(session, facts)
        if segment is not None:
            facts, segment_source = dataclasses.replace(facts, segment=segment), "scoring"
    rule: Rule = choose_rule(
        document, segment=facts.segment, bucket=facts.bucket, score=facts.score
    )
    config = settings_for(session)
    propensity, propensity_source = propensity_for(session, facts, config["default_propensity"])
    items = build_menu(
        rule.terms,
        facts,
        today=today,
        propensity=propensity,
        discount_rate=config["discount_rate"],
        extra_types=[*offer_types(session), *extra_types],
        business_day=business_day_roller(session),
    )
    return Menu(
        facts=facts,
        facts_source=source,
        policy_version=policy.version,
        rule=rule.name,
        segment_source=segment_source,
        propensity=propensity,
        propensity_source=propensity_source,
        discount_rate=config["discount_rate"],
        computed_on=today,
        items=items,
        terms=rule.terms,
    )
