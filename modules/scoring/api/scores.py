"""``/score``: score one record or a batch with a model version or a purpose's champion."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from ..registry import model_ref
from ..scoring import resolve_model, score_records

__all__ = ["score"]


def score(body: dict[str, Any]) -> dict[str, Any]:
    """Scores, probabilities, bands and reason codes, one per record, in order."""
    session = request_session()
    model = resolve_model(session, model_id=body.get("model_id"), purpose=body.get("purpose"))
    scored = score_records(session, model, body["records"], record=body.get("record", True))
    return {
        "model": model_ref(model),
        "results": scored.results,
    }
