"""The ``events`` table: a tenant's event log and, while undelivered, the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ..db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["STATUSES", "Event"]

#: ``pending`` waits in the outbox (maybe after a failure), ``delivered`` reached every
#: consumer, ``dead`` failed too often and waits for an operator's replay.
STATUSES = ("pending", "delivered", "dead")


class Event(TenantScoped, Base):
    """Something that happened to a tenant's data, written with the rows that caused it.

    Delivery is at least once: consumers receive ``id`` and must ignore an id they have
    seen. ``failed_consumers`` names the consumers a retry still owes the event.
    """

    __tablename__ = "events"

    @declared_attr
    def tenant_id(cls) -> Mapped[str]:
        # The ix_events_tenant_* indexes start with tenant_id: no index of it alone (gw0005).
        return mapped_column(
            String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=False, nullable=False
        )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
    subject_type: Mapped[str | None] = mapped_column(String(50), default=None)
    subject_id: Mapped[str | None] = mapped_column(String(64), default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # -- what caused it, when a service blueprint's rule did ------------------------------
    cause_id: Mapped[str | None] = mapped_column(String(32), default=None)
    service: Mapped[str | None] = mapped_column(String(63), default=None)
    rule: Mapped[str | None] = mapped_column(String(100), default=None)
    arm: Mapped[str | None] = mapped_column(String(63), default=None)
    #: How many rule firings led here: 0 for an event an API call caused.
    depth: Mapped[int] = mapped_column(Integer, default=0)
    # -- delivery ------------------------------------------------------------------------
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    failed_consumers: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status"),
        # The outbox scan: only undelivered rows, oldest due first (partial on PostgreSQL
        # and SQLite alike, so the index stays as small as the backlog).
        Index(
            "ix_events_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_events_dead",
            "occurred_at",
            postgresql_where=text("status = 'dead'"),
            sqlite_where=text("status = 'dead'"),
        ),
        Index("ix_events_tenant_time", "tenant_id", "occurred_at", "id"),
        Index("ix_events_tenant_subject", "tenant_id", "subject_type", "subject_id"),
        Index("ix_events_tenant_type", "tenant_id", "type", "occurred_at"),
    )

    @property
    def subject(self) -> dict[str, str] | None:
        """``{"type": ..., "id": ...}`` or None."""
        if self.subject_type is None or self.subject_id is None:
            return None
        return {"type": self.subject_type, "id": self.subject_id}
