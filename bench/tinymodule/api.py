"""Handlers of the tiny module; the bare connexion and plain Flask apps reuse ``get_item``."""

from __future__ import annotations

from typing import Any

__all__ = ["ITEMS", "get_item"]

ITEMS: dict[str, dict[str, str]] = {
    str(number): {"id": str(number), "name": f"item {number}"} for number in range(1, 101)
}


def get_item(item_id: str) -> Any:
    """``GET /items/{item_id}``: the item, or a 404 body."""
    item = ITEMS.get(item_id)
    if item is None:
        return {"detail": f"no item {item_id!r}"}, 404
    return item
