"""``scoring.score`` and ``scoring.score_many``: score one record, or many with one model
resolution and one pass of the engine, for a tenant, in the caller's transaction.

Modules, blueprints and bots call them through ``almacen.run_action(session, "scoring.score",
{"purpose": "risk", "account_id": ...})``; features come in ``features`` or from the ledger
(per record, for those whose given features miss some the model needs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from almacen import Action
from almacen.gateway.db import UnscopedQueryError

from .registry import model_ref
from .schemas import (
    ScoreActionInputSchema,
    ScoreActionOutputSchema,
    ScoreManyInputSchema,
    ScoreManyOutputSchema,
)
from .scoring import resolve_model, score_records

__all__ = ["ACTIONS", "score", "score_many"]


def score(session: Session, tenant_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``scoring.score``: score, probability, band, reasons and the model version."""
    if session.info.get("tenant_id") != tenant_id:
        raise UnscopedQueryError(
            f"scoring actions for tenant {tenant_id} need a session opened for that tenant"
        )
    model = resolve_model(session, model_id=data["model_id"], purpose=data["purpose"])
    item = {"features": data["features"], "account_id": data["account_id"]}
    scored = score_records(session, model, [item], record=data["record"], pointer="")
    result = scored.results[0]
    return {
        **result,
        "model": model_ref(model),
    }


def score_many(session: Session, tenant_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """``scoring.score_many``: what ``scoring.score`` gives for each record, in order, with
    one model (resolved once) for all; any record that cannot be scored fails the call
    (a 422 pointing at ``/items/<i>``), as a batch bulk reader expects."""
    if session.info.get("tenant_id") != tenant_id:
        raise UnscopedQueryError(
            f"scoring actions for tenant {tenant_id} need a session opened for that tenant"
        )
    model = resolve_model(session, model_id=data["model_id"], purpose=data["purpose"])
    items = data["items"]
    scored = score_records(session, model, items, record=data["record"], pointer="/items/{i}")
    return {
        "model": model_ref(model),
        "items": [
            {**result, "account_id": item["account_id"]}
            for item, result in zip(items, scored.results, strict=True)
        ],
    }


ACTIONS: list[Action] = [
    Action(
        name="scoring.score",
        input_schema=ScoreActionInputSchema,
        output_schema=ScoreActionOutputSchema,
        handler=score,
        description="Score one record (features, or an account's from the ledger) with a "
        "model version or a purpose's champion: score, probability, band, reason codes.",
    ),
    Action(
        name="scoring.score_many",
        input_schema=ScoreManyInputSchema,
        output_schema=ScoreManyOutputSchema,
        handler=score_many,
        description="Score up to 10,000 records (features, or accounts' from the ledger) with "
        "one model version or a purpose's champion: one result per record, in order.",
    ),
]
