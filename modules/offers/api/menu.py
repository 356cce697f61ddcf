"""``/menu``: the ranked offer menu of one account (computed, not stored)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from almacen.gateway.db import utcnow
from almacen.gateway.errors import UnprocessableError, marshmallow_errors
from almacen.gateway.state import request_session

from ..schemas import MenuRequestSchema, MenuSchema
from ..service import menu_for

__all__ = ["post"]

_request = MenuRequestSchema()
_menu = MenuSchema()


def post(body: dict[str, Any]) -> dict[str, Any]:
    """Compute the menu of the account named (``account_id``) or described (its facts)."""
    try:
        data = _request.load(body)
    except ValidationError as exc:
        raise UnprocessableError(
            "The menu request cannot be read.", errors=marshmallow_errors(exc.messages)
        ) from None
    if data["account_id"] is None and data["balance"] is None:
        raise UnprocessableError(
            "Give account_id (an account of the ledger) or the account's balance.",
            errors=[{"pointer": "/account_id", "detail": "account_id or balance is required"}],
        )
    menu = menu_for(request_session(), data, today=utcnow().date())
    return dict(_menu.dump(menu))
