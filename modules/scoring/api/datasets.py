"""``/datasets``: labelled data sets uploaded for training (CSV or JSON Lines)."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from .. import datasets
from ..training_schemas import DatasetSchema

__all__ = ["create_dataset", "get_dataset", "list_datasets"]

_dataset = DatasetSchema()


def create_dataset(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Validate and store a labelled data set; a 422 naming the row stores nothing."""
    return dict(_dataset.dump(datasets.create_dataset(request_session(), body))), 201


def list_datasets(limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """A page of the tenant's data sets, oldest first."""
    found = datasets.list_datasets(request_session(), limit=limit, cursor=cursor)
    return {"items": _dataset.dump(found.items, many=True), "next": found.next_cursor}


def get_dataset(dataset_id: str) -> dict[str, Any]:
    """One data set's shape (name, rows, columns and kinds, target and event)."""
    return dict(_dataset.dump(datasets.get_dataset(request_session(), dataset_id)))
