"""``/jobs``: expire the tenant's open offers (emits events); menus of many accounts at once."""

from __future__ import annotations

from typing import Any

from almacen.gateway.db import utcnow
from almacen.gateway.state import request_session

from .. import lifecycle
from ..batch import menus_for_accounts
from ..schemas import BatchRequestSchema, ExpiryRunSchema, dump_batch
from .offers import _load

__all__ = ["run_expiry", "run_menus"]


def run_expiry(body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Expire every open offer whose expiry is before ``as_of`` (default today)."""
    data = _load(ExpiryRunSchema(), body or {}, "expiry run")
    as_of = data["as_of"] or utcnow().date()
    expired = lifecycle.expire_due(request_session(), as_of=as_of)
    return {"as_of": as_of.isoformat(), "expired": [offer.id for offer in expired]}


def run_menus(body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Ranked menus of the named accounts, or of a page of the tenant's open accounts."""
    data = _load(BatchRequestSchema(), body or {}, "menu batch")
    batch = menus_for_accounts(
        request_session(),
        account_ids=data["account_ids"],
        cursor=data["cursor"],
        limit=data["limit"],
        today=utcnow().date(),
        top=data["top"],
    )
    return dump_batch(batch, top=data["top"])
