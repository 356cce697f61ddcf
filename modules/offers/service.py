"""The menu of one account for the session's tenant: facts, policy rule, propensity, offers.

Facts come from the ledger (``ledger.get_account``) when the caller names an ``account_id``;
a tenant without the ledger gives them in the request instead. The propensity to pay comes
from ``scoring.score`` (the tenant's champion ``propensity`` model) when scoring can answer,
else from the tenant's stated ``default_propensity``. Modules meet only through actions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from almacen import ActionInputError, ActionUnavailableError, run_action
from almacen.gateway.errors import NotFoundError, UnprocessableError
from almacen.gateway.money import Money

from .menu import Facts, MenuItem, OfferType, build_menu, offer_types
from .policy import Rule, Terms, active_policy, choose_rule, load_document
from .settings import settings_for

__all__ = ["Menu", "menu_for"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Menu:
    """A computed menu: what it was computed from and its ranked offers."""

    facts: Facts
    facts_source: str
    policy_version: int
    rule: str | None
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
        summary = run_action(session, "ledger.get_account", {"account_id": account_id})
    except ActionUnavailableError:
        raise UnprocessableError(
            "The tenant has no ledger: give balance, bucket and days_past_due instead of "
            "account_id.",
            errors=[{"pointer": "/account_id", "detail": "the ledger is not available"}],
        ) from None
    except ActionInputError:
        raise NotFoundError(f"No account {account_id!r}.") from None
    total = summary["total"]
    return Facts(
        balance=Money(Decimal(total["amount"]), total["currency"]),
        bucket=summary.get("bucket"),
        days_past_due=summary.get("days_past_due"),
        segment=data.get("segment"),
        score=data.get("score"),
        account_id=account_id,
    )


def _propensity(session: Session, facts: Facts, default: Decimal) -> tuple[Decimal, str]:
    if facts.account_id is None:
        return default, "default"
    try:
        scored = run_action(
            session,
            "scoring.score",
            {"purpose": "propensity", "account_id": facts.account_id, "record": False},
        )
    except (ActionUnavailableError, NotFoundError, UnprocessableError):
        return default, "default"
    probability = scored.get("probability")
    if probability is None:
        return default, "default"
    return Decimal(str(probability)).quantize(Decimal("0.0001")), "scoring"


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
    rule: Rule = choose_rule(
        document, segment=facts.segment, bucket=facts.bucket, score=facts.score
    )
    config = settings_for(session)
    propensity, propensity_source = _propensity(session, facts, config["default_propensity"])
    items = build_menu(
        rule.terms,
        facts,
        today=today,
        propensity=propensity,
        discount_rate=config["discount_rate"],
        extra_types=[*offer_types(session), *extra_types],
    )
    return Menu(
        facts=facts,
        facts_source=source,
        policy_version=policy.version,
        rule=rule.name,
        propensity=propensity,
        propensity_source=propensity_source,
        discount_rate=config["discount_rate"],
        computed_on=today,
        items=items,
        terms=rule.terms,
    )
