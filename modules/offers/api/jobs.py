"""``/jobs/expiry``: expire the tenant's open offers past their expiry (emits events)."""

from __future__ import annotations

from typing import Any

from almacen.gateway.db import utcnow
from almacen.gateway.state import request_session

from .. import lifecycle
from ..schemas import ExpiryRunSchema
from .offers import _load

__all__ = ["run_expiry"]


def run_expiry(body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Expire every open offer whose expiry is before ``as_of`` (default today)."""
    data = _load(ExpiryRunSchema(), body or {}, "expiry run")
    as_of = data["as_of"] or utcnow().date()
    expired = lifecycle.expire_due(request_session(), as_of=as_of)
    return {"as_of": as_of.isoformat(), "expired": [offer.id for offer in expired]}
