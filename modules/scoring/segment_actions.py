"""``scoring.segment`` and ``scoring.segment_many``: segment one account (or many) with the
tenant's active rules, in process.

Blueprints and other modules call it through :func:`almacen.run_action`; it stores the
assignment (with history) and emits ``scoring.segment_changed`` when the segment changes, in
the caller's transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from almacen import Action
from almacen.gateway.db import UnscopedQueryError
from almacen.gateway.errors import NotFoundError, UnprocessableError

from . import segments
from .scoring import resolve_model, score_records
from .segment_schemas import (
    AccountInputSchema,
    AccountsInputSchema,
    AssignedManySchema,
    AssignedSchema,
)

__all__ = ["ACTIONS", "segment", "segment_many"]


def segment(
    session: Session, tenant_id: str, data: Mapping[str, Any] | segments.AccountInput
) -> segments.Assigned:
    """``scoring.segment``: the account's segment and treatments, stored with history."""
    if session.info.get("tenant_id") != tenant_id:
        # the rules and assignments are read through the session: it must be the tenant's
        raise UnscopedQueryError(f"scoring.segment for tenant {tenant_id} needs its session")
    account = data if isinstance(data, segments.AccountInput) else segments.AccountInput(**data)
    _, (outcome,) = segments.assign(session, [account])
    return outcome


def segment_many(session: Session, tenant_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``scoring.segment_many``: what ``scoring.segment`` gives each account, in order, with
    the rules read once and the missing risk scores computed in one pass of the engine."""
    if session.info.get("tenant_id") != tenant_id:
        raise UnscopedQueryError(f"scoring.segment_many for tenant {tenant_id} needs its session")
    segments.active_rules(session)  # no rules: a 404 before any scoring
    _, outcomes = segments.assign(session, _risk_scored(session, data["accounts"]))
    return {"items": outcomes}


def _risk_scored(
    session: Session, accounts: Sequence[segments.AccountInput]
) -> list[segments.AccountInput]:
    """The accounts with the champion risk model's score where :func:`segments.complete`
    would ask ``scoring.score`` for one, all in one call (records kept, as there); the given
    ``days_past_due``, ``bucket`` and ``balance`` are features too (as the ledger's would be).
    When that call cannot score them all, none is filled and each is scored alone."""
    wanted = [
        i
        for i, account in enumerate(accounts)
        if account.score is None
        and (account.features or segments.LEDGER_ID.fullmatch(account.account_id))
    ]
    if not wanted:
        return list(accounts)
    records = []
    for i in wanted:
        account = accounts[i]
        # Given ledger facts are the ledger's features (the engine reads any other one).
        known = {
            "days_past_due": account.days_past_due,
            "bucket": account.bucket,
            "balance": str(account.balance.amount) if account.balance is not None else None,
        }
        features = {**{k: v for k, v in known.items() if v is not None}, **account.features}
        record: dict[str, Any] = {"features": features or None}
        if segments.LEDGER_ID.fullmatch(account.account_id):
            record["account_id"] = account.account_id
        records.append(record)
    try:
        model = resolve_model(session, purpose="risk")
        results = score_records(session, model, records, pointer="/accounts/{i}").results
    except (NotFoundError, UnprocessableError):
        return list(accounts)
    filled = list(accounts)
    for i, result in zip(wanted, results, strict=True):
        account = accounts[i]
        probability = result.get("probability")
        filled[i] = dataclasses.replace(
            account,
            score=result.get("score"),
            probability=account.probability
            if account.probability is not None or probability is None
            else Decimal(str(probability)),
            band=account.band if account.band is not None else result.get("band"),
        )
    return filled


ACTIONS = [
    Action(
        name="scoring.segment",
        input_schema=AccountInputSchema,
        output_schema=AssignedSchema,
        handler=segment,
        description=(
            "Segment an account with the tenant's active rules (score, features, bucket, "
            "balance; missing values read from the ledger and scoring when subscribed)."
        ),
    ),
    Action(
        name="scoring.segment_many",
        input_schema=AccountsInputSchema,
        output_schema=AssignedManySchema,
        handler=segment_many,
        description=(
            "Segment up to 10,000 accounts as scoring.segment does each, with one rules "
            "read and one scoring pass for the missing risk scores."
        ),
    ),
]
