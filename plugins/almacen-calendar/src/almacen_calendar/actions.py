"""Handlers of the calendar's actions, called in-process by other modules and blueprints.

Each is ``handler(session, tenant_id, data)``: ``data`` is what the action's input schema
loaded, and ``session`` must be open for ``tenant_id`` (the tenant's configuration and days
off are read through it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from almacen.gateway.db import UnscopedQueryError

from . import service

__all__ = ["add_business_days", "is_business_day"]


def add_business_days(
    session: Session, tenant_id: str, data: Mapping[str, Any]
) -> service.BusinessDaySum:
    """``calendar.add_business_days``: the business day ``days`` business days from ``date``."""
    _check_scope(session, tenant_id)
    return service.add_business_days(
        session, start=data["date"], days=data["days"], country=data.get("country")
    )


def is_business_day(session: Session, tenant_id: str, data: Mapping[str, Any]) -> service.DayCheck:
    """``calendar.is_business_day``: whether ``date`` is a business day, and if not, why."""
    _check_scope(session, tenant_id)
    return service.check_business_day(session, day=data["date"], country=data.get("country"))


def _check_scope(session: Session, tenant_id: str) -> None:
    # The answer depends on the tenant's configuration and days off, read through the
    # session: a session of another tenant (or of none) would answer for the wrong one.
    if session.info.get("tenant_id") != tenant_id:
        raise UnscopedQueryError(
            f"calendar actions for tenant {tenant_id} need a session opened for that tenant"
        )
