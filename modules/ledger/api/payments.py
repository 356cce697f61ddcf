"""``/accounts/{id}/payments`` and ``/payments/{id}/reversal``."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from .. import payments as service
from ..accounts import settings_for
from ..actions import plugin_strategies
from ..schemas import PaymentSchema
from ._common import date, money, page, pointer, query_date

__all__ = ["list_payments", "post_payment", "reverse_payment"]

_payment = PaymentSchema()


def post_payment(account_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], int, Any]:
    """Post a payment, or replay the one posted with the same ``external_id``."""
    session = request_session()
    result = service.post_payment(
        session,
        account_id,
        external_id=body["external_id"],
        amount=money(body["amount"], "/amount"),
        received_on=date(body["received_on"], pointer("/received_on")),
        channel=body.get("channel"),
        config=settings_for(session),
        strategies=plugin_strategies(),
    )
    dumped = dict(_payment.dump(result.view))
    if result.replayed:
        return dumped, 200, {"Idempotent-Replayed": "true"}
    return dumped, 201, {}


def list_payments(
    account_id: str, limit: int = 50, cursor: str | None = None, as_of: str | None = None
) -> dict[str, Any]:
    """A page of the account's payments."""
    day = query_date(as_of, "as_of")
    found = service.list_payments(
        request_session(), account_id, limit=limit, cursor=cursor, as_of=day
    )
    return page(_payment, found)


def reverse_payment(payment_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Reverse a payment."""
    view = service.reverse_payment(
        request_session(),
        payment_id,
        effective_on=date(body["effective_on"], pointer("/effective_on")),
        memo=body.get("memo", ""),
    )
    return dict(_payment.dump(view)), 201
