"""The offers module's actions (``offers.propose``, ``offers.counter``, ``offers.accept``).

Each handler is ``handler(session, tenant_id, data)``: ``data`` is what the action's input
schema loaded, and ``session`` must be open for ``tenant_id``. The caller owns the
transaction, so an offer accepted from a strategy or a bot installs its ledger plan in the
caller's unit of work, exactly as through HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from almacen import Action
from almacen.gateway.db import UnscopedQueryError, utcnow

from . import lifecycle, negotiation
from .offer_tables import StoredOffer
from .schemas import (
    CounterAnswerSchema,
    CounterRequestSchema,
    OfferAcceptSchema,
    OfferCreateSchema,
    OfferSchema,
)

__all__ = ["ACTIONS", "accept", "counter", "propose"]


def _check_scope(session: Session, tenant_id: str) -> None:
    # Offers are read and written through the session: one of another tenant (or of none)
    # would act for the wrong tenant.
    if session.info.get("tenant_id") != tenant_id:
        raise UnscopedQueryError(
            f"offers actions for tenant {tenant_id} need a session opened for that tenant"
        )


def propose(session: Session, tenant_id: str, data: Mapping[str, Any]) -> StoredOffer:
    """``offers.propose``: store one offer of the account's menu (``kind``, ``count``)."""
    _check_scope(session, tenant_id)
    return lifecycle.propose(session, data, today=utcnow().date())


def counter(session: Session, tenant_id: str, data: Mapping[str, Any]) -> negotiation.CounterAnswer:
    """``offers.counter``: answer "I can pay X a month / now" with an offer within policy."""
    _check_scope(session, tenant_id)
    return negotiation.counter(session, data, today=utcnow().date())


def accept(session: Session, tenant_id: str, data: Mapping[str, Any]) -> StoredOffer:
    """``offers.accept``: accept an offer (idempotent), installing it in the ledger."""
    _check_scope(session, tenant_id)
    return lifecycle.accept(session, data["offer_id"], today=utcnow().date())


ACTIONS: list[Action] = [
    Action(
        name="offers.propose",
        input_schema=OfferCreateSchema,
        output_schema=OfferSchema,
        handler=propose,
        description="Propose one offer of an account's menu (stored, with its expiry).",
    ),
    Action(
        name="offers.counter",
        input_schema=CounterRequestSchema,
        output_schema=CounterAnswerSchema,
        handler=counter,
        description="Answer a debtor's counter (a monthly or upfront amount) with the best "
        "offer within policy that meets it, or the closest allowed, and why.",
    ),
    Action(
        name="offers.accept",
        input_schema=OfferAcceptSchema,
        output_schema=OfferSchema,
        handler=accept,
        description="Accept an offer (idempotent); installs the plan or settlement in the "
        "ledger in the same transaction.",
    ),
]
