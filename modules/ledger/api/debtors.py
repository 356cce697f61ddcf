"""``/debtors``: create, list, read and change debtors."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from .. import debtors as service
from ..schemas import DebtorSchema
from ._common import page

__all__ = ["create_debtor", "get_debtor", "list_debtors", "update_debtor"]

_debtor = DebtorSchema()


def create_debtor(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Create a debtor."""
    debtor = service.create_debtor(request_session(), body)
    return dict(_debtor.dump(debtor)), 201


def list_debtors(
    limit: int = 50, cursor: str | None = None, external_ref: str | None = None
) -> dict[str, Any]:
    """A page of the tenant's debtors."""
    found = service.list_debtors(
        request_session(), external_ref=external_ref, limit=limit, cursor=cursor
    )
    return page(_debtor, found)


def get_debtor(debtor_id: str) -> dict[str, Any]:
    """One debtor."""
    return dict(_debtor.dump(service.get_debtor(request_session(), debtor_id)))


def update_debtor(debtor_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Change some of a debtor's fields."""
    return dict(_debtor.dump(service.update_debtor(request_session(), debtor_id, body)))
