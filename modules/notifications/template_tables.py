"""Tables of message templates (versioned per tenant, name, channel and locale) and of the
tenant's channel credentials (one provider per channel).

Every row is tenant-scoped. Credentials are stored as the provider's schema loaded them; the
gateway has no key to encrypt them with, so they are kept in clear like webhook signing
secrets, and never returned by the API nor logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from almacen.gateway.db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["ChannelCredential", "MessageTemplate"]


class MessageTemplate(TenantScoped, Base):
    """One version of a template: its subject, text and HTML bodies in Jinja2 syntax.

    The newest version of a (name, channel, locale) is the one rendered; older versions stay
    so that a sent message can say which version it was rendered from.
    """

    __tablename__ = "notifications_templates"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(32))
    #: A CLDR locale identifier as Babel writes it (``es_CO``) or a language (``es``).
    locale: Mapped[str] = mapped_column(String(35))
    #: 1, 2, ... per (tenant, name, channel, locale), in creation order.
    version: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str | None] = mapped_column(Text, default=None)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text, default=None)
    #: Data the preview renders with when it is given none.
    sample_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "name", "channel", "locale", "version", name="uq_notifications_templates"
        ),
    )


class ChannelCredential(TenantScoped, Base):
    """The provider a tenant sends one channel through, with its credentials."""

    __tablename__ = "notifications_channel_credentials"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(64))
    #: What the provider's credentials schema loaded (secrets included; never dumped whole).
    credentials: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Signs the provider's callbacks (receipts, inbound) to this tenant: ``whsec_…``.
    receipt_secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "channel", name="uq_notifications_channel_credentials"),
    )
