"""Menus of many accounts at once: the batch a strategy or a campaign runs over a portfolio.

Facts come from the ledger in bulk (``ledger.get_accounts``: one grouped read of the journal
per page, never one action per account) and each account's rule is chosen from the active
policy as for one menu. For a tenant with scoring, the propensities come from one
``scoring.score_many`` call and the segments from one ``scoring.segment_many`` call (the
facts already read go along). Offers are summarised by :func:`~.bulk.bulk_summaries`, which
gives exactly the figures of :func:`~.menu.build_menu` (the function behind ``POST /menu``)
without building the built-in offers' dated schedules, the effective rate only for the best
``top``; plugins' offer types make their offers for each account as in a menu. Accounts with
the same rule, balance and propensity share one computation when no plugin adds offer types.
Accounts that cannot have a menu (disputed, not open, nothing owed, another currency,
unknown) are listed with the reason, not dropped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from almacen import ActionUnavailableError, run_action
from almacen.gateway.errors import UnprocessableError
from almacen.gateway.money import Money, currency_exponent

from .bulk import Summary, bulk_summaries, plugin_offers
from .menu import Facts, offer_types, required_upfront
from .policy import active_policy, choose_rule, load_document
from .service import business_day_roller, has_action, propensities_for, segments_for
from .settings import settings_for

__all__ = ["AccountMenu", "MenuBatch", "Skipped", "menus_for_accounts"]

#: Most accounts one batch call computes (the ledger action's page limit).
MAX_BATCH = 10_000


@dataclasses.dataclass(frozen=True, kw_only=True)
class AccountMenu:
    """One account's ranked menu in a batch."""

    facts: Facts
    rule: str | None
    propensity: Decimal
    propensity_source: str
    items: list[Summary]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Skipped:
    """An account the batch could not make a menu for, and why."""

    account_id: str
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class MenuBatch:
    """The menus of one batch call, the accounts skipped, and where the next page starts."""

    computed_on: dt.date
    policy_version: int
    discount_rate: Decimal
    menus: list[AccountMenu]
    skipped: list[Skipped]
    next_cursor: str | None


def _facts_page(
    session: Session, account_ids: Sequence[str] | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    query: dict[str, Any] = (
        {"account_ids": list(account_ids)}
        if account_ids is not None
        else {"status": "open", "after": cursor, "limit": limit}
    )
    try:
        return run_action(session, "ledger.get_accounts", query)
    except ActionUnavailableError:
        raise UnprocessableError(
            "Menus in bulk read the accounts from the ledger; the tenant has no ledger.",
            errors=[{"pointer": "/", "detail": "the ledger is not available"}],
        ) from None


def menus_for_accounts(
    session: Session,
    *,
    account_ids: Sequence[str] | None = None,
    cursor: str | None = None,
    limit: int = 1000,
    today: dt.date,
    top: int | None = None,
) -> MenuBatch:
    """Ranked menus of the named accounts, or of a page of the tenant's open accounts.

    :param account_ids: the accounts (at most :data:`MAX_BATCH`); None for open accounts
        in id order, ``limit`` of them after ``cursor``.
    :param top: each menu's best ``top`` offers only (all when None); ranks are the same.
    :raises UnprocessableError: no policy yet, or the tenant has no ledger.
    """
    policy = active_policy(session)
    if policy is None:
        raise UnprocessableError(
            "The tenant has no offer policy yet; PUT /v1/offers/policy first.",
            errors=[{"pointer": "/", "detail": "no offer policy"}],
        )
    document = load_document(policy.document)
    config = settings_for(session)
    default_propensity: Decimal = config["default_propensity"]
    discount_rate: Decimal = config["discount_rate"]
    page = _facts_page(session, account_ids, cursor, limit)
    plugin_types = offer_types(session)
    found: dict[str, Mapping[str, Any]] = {row["account_id"]: row for row in page["items"]}
    skipped = [
        Skipped(account_id=account_id, reason="no such account")
        for account_id in dict.fromkeys(account_ids or ())
        if account_id not in found
    ]
    menus: list[AccountMenu] = []
    shared: dict[tuple[str | None, Decimal, Decimal], list[Summary]] = {}
    exponent = currency_exponent(document["currency"])
    # Without scoring (probed once) every account takes the stated default propensity.
    scoring = has_action(session, "scoring.score")
    roll = business_day_roller(session)
    fit: list[Facts] = []
    for row in page["items"]:
        account_id = row["account_id"]
        total = row["total"]
        balance = Money(Decimal(total["amount"]), total["currency"])
        reason = _unfit(row, balance, document["currency"])
        if reason is not None:
            skipped.append(Skipped(account_id=account_id, reason=reason))
            continue
        fit.append(
            Facts(
                balance=balance,
                bucket=row.get("bucket"),
                days_past_due=row.get("days_past_due"),
                account_id=account_id,
            )
        )
    # Propensities and segments in one scoring call each (not one per account).
    propensities = [(default_propensity, "default")] * len(fit)
    segments: list[str | None] = [None] * len(fit)
    if scoring:
        propensities = propensities_for(session, fit, default_propensity)
        segments = segments_for(session, fit)
    for facts, (propensity, source), segment in zip(fit, propensities, segments, strict=True):
        balance = facts.balance
        if segment is not None:
            facts = dataclasses.replace(facts, segment=segment)
        rule = choose_rule(document, segment=facts.segment, bucket=facts.bucket, score=None)
        key = (rule.name, balance.amount, propensity)
        items = shared.get(key) if not plugin_types else None
        if items is None:
            # Plugins' offer types may read anything about the account: theirs are made
            # for each account, and such menus are not shared.
            extras = plugin_offers(plugin_types, rule.terms, facts, today=today, business_day=roll)
            items = bulk_summaries(
                rule.terms,
                balance,
                required=required_upfront(rule.terms, balance),
                exponent=exponent,
                today=today,
                propensity=propensity,
                discount_rate=discount_rate,
                business_day=roll,
                extras=extras,
                top=top,
            )
            if not plugin_types:
                shared[key] = items
        menus.append(
            AccountMenu(
                facts=facts,
                rule=rule.name,
                propensity=propensity,
                propensity_source=source,
                items=items,
            )
        )
    return MenuBatch(
        computed_on=today,
        policy_version=policy.version,
        discount_rate=discount_rate,
        menus=menus,
        skipped=skipped,
        next_cursor=page.get("next_after"),
    )


def _unfit(row: Mapping[str, Any], balance: Money, currency: str) -> str | None:
    if row.get("disputed"):
        return "the account is disputed"
    if row.get("status") != "open":
        return f"the account is {row.get('status')}"
    if balance.currency != currency:
        return f"the account is in {balance.currency}; the offer policy in {currency}"
    if balance.amount <= 0:
        return "nothing is owed"
    return None
