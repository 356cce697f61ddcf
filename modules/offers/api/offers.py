"""``/offers``: stored offers, their lifecycle and negotiation (thin handlers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import Schema, ValidationError

from almacen.gateway.db import utcnow
from almacen.gateway.errors import UnprocessableError, marshmallow_errors
from almacen.gateway.state import request_session

from .. import lifecycle, negotiation
from ..schemas import CounterAnswerSchema, CounterRequestSchema, OfferCreateSchema, OfferSchema

__all__ = ["accept", "approve", "counter", "create", "decline", "get", "reject", "search"]

_offer = OfferSchema()


def _load(schema: Schema, body: Mapping[str, Any], what: str) -> dict[str, Any]:
    try:
        return dict(schema.load(body))
    except ValidationError as exc:
        raise UnprocessableError(
            f"The {what} cannot be read.", errors=marshmallow_errors(exc.messages)
        ) from None


def create(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Choose one offer of the account's menu and store it (proposed or pending approval)."""
    data = _load(OfferCreateSchema(), body, "offer")
    offer = lifecycle.propose(request_session(), data, today=utcnow().date())
    return dict(_offer.dump(offer)), 201


def search(
    limit: int = 50,
    cursor: str | None = None,
    account_id: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """A page of the tenant's offers, oldest first, of one account and/or status."""
    found = lifecycle.list_offers(
        request_session(), account_id=account_id, status=status, limit=limit, cursor=cursor
    )
    return {"items": _offer.dump(found.items, many=True), "next": found.next_cursor}


def get(offer_id: str) -> dict[str, Any]:
    """One offer with its history."""
    return dict(_offer.dump(lifecycle.get_offer(request_session(), offer_id)))


def accept(offer_id: str) -> dict[str, Any]:
    """Accept the offer (idempotent), installing it in the ledger when the tenant has one."""
    offer = lifecycle.accept(request_session(), offer_id, today=utcnow().date())
    return dict(_offer.dump(offer))


def reject(offer_id: str) -> dict[str, Any]:
    """The debtor rejects the offer."""
    offer = lifecycle.reject(request_session(), offer_id, today=utcnow().date())
    return dict(_offer.dump(offer))


def approve(offer_id: str) -> dict[str, Any]:
    """Approve an offer waiting for approval; the debtor may then accept it."""
    offer = lifecycle.approve(request_session(), offer_id, today=utcnow().date())
    return dict(_offer.dump(offer))


def decline(offer_id: str) -> dict[str, Any]:
    """Decline an offer waiting for approval."""
    offer = lifecycle.decline(request_session(), offer_id, today=utcnow().date())
    return dict(_offer.dump(offer))


def counter(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Answer a debtor's counter with a stored offer, saying whether and why it meets it."""
    data = _load(CounterRequestSchema(), body, "counter")
    answer = negotiation.counter(request_session(), data, today=utcnow().date())
    return dict(CounterAnswerSchema().dump(answer)), 201
