"""Tables of offer policies: one row per version of a tenant's policy document.

The newest version is the active one; older versions stay for history (what terms an offer
was computed under). Every row is tenant-scoped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from almacen.gateway.db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["OfferPolicy"]


class OfferPolicy(TenantScoped, Base):
    """One version of a tenant's offer policy: its validated document (see :mod:`..policy`)."""

    __tablename__ = "offers_policies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    #: 1, 2, ... per tenant, in creation order.
    version: Mapped[int] = mapped_column(Integer)
    #: The policy as the tenant sent it, normalised by its schema (amounts as strings).
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "version", name="uq_offers_policies_version"),)
