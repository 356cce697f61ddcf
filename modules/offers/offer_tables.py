"""Tables of stored offers and their history.

An offer chosen from the menu (or proposed in answer to a counter) is stored with the exact
terms it was computed with, so what the debtor accepts is what they were shown even if the
policy or the balance changes afterwards. Every status change is a history row: the audit
trail negotiation and approval need. Every row is tenant-scoped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from almacen.gateway.db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["OfferHistory", "StoredOffer"]


class StoredOffer(TenantScoped, Base):
    """One offer put to a debtor: its frozen terms and where it is in its lifecycle."""

    __tablename__ = "offers_offers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    #: proposed, pending_approval, approved, declined, accepted, rejected, expired, countered.
    status: Mapped[str] = mapped_column(String(32), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    term_months: Mapped[int] = mapped_column(Integer)
    #: The menu item as dumped on the wire (schedule, disclosures; amounts as strings).
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_on: Mapped[dt.date] = mapped_column(Date, index=True)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    policy_version: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: The counter this offer answers (``monthly`` or ``upfront``, ``in_reply_to``), if any.
    counter: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: Why this offer was proposed (the answer to a counter says why it meets it or not).
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The ledger plan or settlement installed on acceptance, when the tenant has the ledger.
    ledger_plan_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    history: Mapped[list[OfferHistory]] = relationship(
        order_by="OfferHistory.seq", lazy="selectin", cascade="all, delete-orphan"
    )


class OfferHistory(TenantScoped, Base):
    """One transition of an offer: from which status to which, when and why."""

    __tablename__ = "offers_history"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    offer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("offers_offers.id", ondelete="CASCADE"), index=True
    )
    #: 1, 2, ... per offer, in order.
    seq: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
