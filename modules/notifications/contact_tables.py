"""Tables of the contact policy: the tenant's policy, consents and opt-outs, contact attempts
and the key that signs unsubscribe links. Every row is tenant-scoped.

A consent row is about a *subject*: a debtor of the ledger (``subject_kind = 'debtor'``) or a
bare address (``'address'``: an e-mail or phone number, for tenants without the ledger or for
an opt-out that arrives from an address not tied to a debtor). ``channel = '*'`` means every
channel.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from almacen.gateway.db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["ContactAttempt", "ContactConsent", "ContactPolicy", "UnsubscribeKey"]

#: Channel value of a consent row that covers every channel.
ALL_CHANNELS = "*"


class ContactPolicy(TenantScoped, Base):
    """A tenant's contact policy: the chosen rule pack and the tenant's stricter overrides."""

    __tablename__ = "notifications_contact_policies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    #: A rule pack id (``us_reg_f``...) or ``auto`` (the pack of the recipient's country).
    rule_pack: Mapped[str] = mapped_column(String(40))
    #: The tenant's overrides as validated (see :mod:`.contact.policy`).
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", name="uq_notifications_contact_policies"),)


class ContactConsent(TenantScoped, Base):
    """Whether a subject consented to, or opted out of, a channel (``*``: every channel)."""

    __tablename__ = "notifications_contact_consents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    subject_kind: Mapped[str] = mapped_column(String(8))
    #: The debtor id, or the normalised address (e-mail lower-cased, phone as digits and +).
    subject: Mapped[str] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    #: How it arrived: ``inbound``, ``unsubscribe``, ``api``, ``bot``...
    source: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint("subject_kind IN ('debtor', 'address')", name="subject_kind"),
        CheckConstraint("status IN ('opted_out', 'consented')", name="status"),
        UniqueConstraint(
            "tenant_id",
            "subject_kind",
            "subject",
            "channel",
            name="uq_notifications_contact_consents_subject",
        ),
    )


class ContactAttempt(TenantScoped, Base):
    """One contact made (or a conversation held) with a subject on a channel, about a debt.

    An attempt about several accounts is one row per account (``account_id`` null when none
    was named): frequency caps count per debt or per recipient over rolling windows.
    """

    __tablename__ = "notifications_contact_attempts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    subject_kind: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str | None] = mapped_column(String(64), default=None)
    #: A conversation (the debtor was reached), which starts Regulation F's quiet week.
    conversation: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("subject_kind IN ('debtor', 'address')", name="subject_kind"),
        Index("ix_notifications_contact_attempts_subject", "tenant_id", "subject", "at"),
    )


class UnsubscribeKey(TenantScoped, Base):
    """The tenant's secret that signs unsubscribe links (HMAC-SHA256), made on first use."""

    __tablename__ = "notifications_unsubscribe_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", name="uq_notifications_unsubscribe_keys"),)
