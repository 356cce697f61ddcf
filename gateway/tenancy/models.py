"""Tables of tenancy: tenants, their API keys and module subscriptions, and admin keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["AdminKey", "ApiKey", "Subscription", "Tenant"]


class Tenant(Base):
    """A client firm. Its id is the ``tenant_id`` of every row it owns."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    #: Overrides the gateway's default rate limit (``limits`` notation) when set.
    rate_limit: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint("status IN ('active', 'suspended')", name="status"),)

    @property
    def active(self) -> bool:
        """False once the tenant is suspended: its keys stop working."""
        return self.status == "active"


class _KeyColumns:
    """What every stored key has: the secret is shown once; only its SHA-256 is kept."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    #: The visible part (``alm_`` and 12 characters) by which a presented key is looked up.
    prefix: Mapped[str] = mapped_column(String(24), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class ApiKey(_KeyColumns, TenantScoped, Base):
    """A tenant's API key."""

    __tablename__ = "api_keys"


class AdminKey(_KeyColumns, Base):
    """An operator's key for the admin API; not owned by any tenant."""

    __tablename__ = "admin_keys"


class Subscription(TenantScoped, Base):
    """A tenant's subscription to one module, with the module's configuration for it."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    module: Mapped[str] = mapped_column(String(63))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "module", name="uq_subscriptions_tenant"),)
