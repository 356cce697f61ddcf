"""Tables of webhooks: tenants' endpoints, one delivery per (endpoint, event), its attempts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["DELIVERY_STATUSES", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint"]

#: ``pending`` is due at ``next_attempt_at`` (or leased to a sender until then),
#: ``delivered`` got a 2xx, ``failed`` used up its attempts and waits for a redelivery.
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookEndpoint(TenantScoped, Base):
    """A URL a tenant registered to receive the events its ``filters`` match.

    The signing secrets are kept in clear: signing needs them (Standard Webhooks uses a
    symmetric HMAC). After a rotation the previous secret signs too until it expires.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str] = mapped_column(String(500), default="")
    #: Event types (``ledger.payment_posted``), module wildcards (``ledger.*``) or ``*``.
    filters: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100), default=None)
    previous_secret_expires_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_webhook_endpoints_tenant_time", "tenant_id", "created_at", "id"),)

    def signing_secrets(self, now: dt.datetime) -> list[str]:
        """The secrets that sign a message sent at ``now``: the current one, then the
        previous one while its grace period lasts."""
        found = [self.secret]
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and expires > now:
            found.append(self.previous_secret)
        return found


class WebhookDelivery(TenantScoped, Base):
    """One event owed to one endpoint; retried on the published schedule until a 2xx."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    endpoint_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(32), ForeignKey("events.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    #: Attempts in the current round (a manual redelivery starts a new round at 0).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When the next attempt is due; while a sender holds the row, when its lease ends.
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
        # A redelivered (replayed) event must not be sent twice to one endpoint.
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        # The senders' scan: only what is still owed, oldest due first.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_deliveries_endpoint_time", "endpoint_id", "created_at", "id"),
    )


class WebhookAttempt(TenantScoped, Base):
    """One HTTP request of a delivery: what came back, how long it took, or what failed."""

    __tablename__ = "webhook_attempts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    delivery_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    #: The start of the response body, for the tenant to see what its server said.
    response_excerpt: Mapped[str | None] = mapped_column(Text, default=None)

    __table_args__ = (Index("ix_webhook_attempts_delivery_time", "delivery_id", "attempted_at"),)
