"""The session's tenant's offers configuration, defaults filled in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from almacen.gateway.tenancy.models import Subscription

from .config import OffersConfigSchema

__all__ = ["MODULE", "settings_for"]

MODULE = "offers"


def settings_for(session: Session) -> dict[str, Any]:
    """The offers configuration of the session's tenant, defaults filled in."""
    subscription = session.scalar(select(Subscription).where(Subscription.module == MODULE))
    stored: Mapping[str, Any] = subscription.config if subscription is not None else {}
    return dict(OffersConfigSchema().load(dict(stored)))
