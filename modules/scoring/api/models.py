"""``/models``: the tenant's model registry (versions, activation, retirement)."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from .. import registry
from ..schemas import ModelSchema

__all__ = [
    "activate_model",
    "create_model",
    "get_model",
    "list_models",
    "retire_model",
    "update_model",
]

_model = ModelSchema()


def create_model(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Store a document as a new draft version of the model ``name``."""
    model = registry.create_model(
        request_session(),
        name=body["name"],
        document=body["document"],
        description=body.get("description"),
    )
    return dict(_model.dump(model)), 201


def list_models(
    name: str | None = None,
    purpose: str | None = None,
    status: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """A page of model versions, oldest first."""
    found = registry.list_models(
        request_session(), name=name, purpose=purpose, status=status, limit=limit, cursor=cursor
    )
    return {"items": _model.dump(found.items, many=True), "next": found.next_cursor}


def get_model(model_id: str) -> dict[str, Any]:
    """One model version."""
    return dict(_model.dump(registry.get_model(request_session(), model_id)))


def update_model(model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Edit a draft's document or description."""
    model = registry.update_draft(
        request_session(),
        model_id,
        document=body.get("document"),
        description=body.get("description"),
    )
    return dict(_model.dump(model))


def activate_model(model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Make a version the champion of its purpose, or a challenger."""
    model = registry.activate_model(request_session(), model_id, role=body["role"])
    return dict(_model.dump(model))


def retire_model(model_id: str) -> dict[str, Any]:
    """Retire a version."""
    return dict(_model.dump(registry.retire_model(request_session(), model_id)))
