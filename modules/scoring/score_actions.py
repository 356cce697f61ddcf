"""``scoring.score``: score one record for a tenant, in the caller's transaction.

Modules, blueprints and bots call it through ``almacen.run_action(session, "scoring.score",
{"purpose": "risk", "account_id": ...})``; features come in ``features`` or from the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from almacen import Action
from almacen.gateway.db import UnscopedQueryError

from .registry import model_ref
from .schemas import ScoreActionInputSchema, ScoreActionOutputSchema
from .scoring import resolve_model, score_records

__all__ = ["ACTIONS", "score"]


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


ACTIONS: list[Action] = [
    Action(
        name="scoring.score",
        input_schema=ScoreActionInputSchema,
        output_schema=ScoreActionOutputSchema,
        handler=score,
        description="Score one record (features, or an account's from the ledger) with a "
        "model version or a purpose's champion: score, probability, band, reason codes.",
    )
]
