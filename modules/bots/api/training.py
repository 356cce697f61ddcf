"""``/training``: a tenant's own examples for an intent, and retraining its classifier."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from .. import content
from ..schemas import TrainedModelSchema, TrainingExampleSchema

__all__ = ["create", "retrain", "search"]

_example = TrainingExampleSchema()


def create(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Add an example to an intent (used from the next retraining on)."""
    example = content.add_example(
        request_session(), intent=body["intent"], language=body["language"], text=body["text"]
    )
    return dict(_example.dump(example)), 201


def search() -> dict[str, Any]:
    """The tenant's own examples."""
    return {"items": _example.dump(content.list_examples(request_session()), many=True)}


def retrain() -> tuple[dict[str, Any], int]:
    """Train the tenant's classifier on shipped, plugin and its examples; it is used at once."""
    return dict(TrainedModelSchema().dump(content.retrain(request_session()))), 201
