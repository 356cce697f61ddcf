"""Tables of outbound messages, their history and inbound replies (message_tables).

The messages table is the module's own transactional outbox: a message is written in the
caller's transaction, already rendered, and the send loop (a worker task) sends it after
commit. Every status change is a history row; provider receipts and inbound replies are
recorded beside them. Every row is tenant-scoped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from almacen.gateway.db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["InboundMessage", "Message", "MessageHistory"]


class Message(TenantScoped, Base):
    """One outbound message: to whom, on which channel, its rendered text and its status."""

    __tablename__ = "notifications_messages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_notifications_messages_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    debtor_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    #: The channel it goes out on (``best`` is resolved when the message is accepted).
    channel: Mapped[str] = mapped_column(String(32))
    #: The address on that channel (e-mail address, phone number, webhook URL, ...).
    address: Mapped[str] = mapped_column(String(320))
    #: The recipient as resolved at acceptance (time zone, country, locale, addresses).
    recipient: Mapped[dict[str, Any]] = mapped_column(JSON)
    template: Mapped[str] = mapped_column(String(100))
    template_version: Mapped[int] = mapped_column(Integer)
    locale: Mapped[str] = mapped_column(String(35))
    #: The data of every request folded into this message, in order (one when not merged).
    data: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    account_ids: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text, nullable=True)
    encoding: Mapped[str | None] = mapped_column(String(16), nullable=True)
    segments: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: queued, sent, delivered, failed, bounced, blocked.
    status: Mapped[str] = mapped_column(String(16))
    #: What to do when the contact policy blocks it at send time: ``wait`` or ``drop``.
    on_blocked: Mapped[str] = mapped_column(String(8))
    #: Send attempts that reached the provider (throttling and waiting do not count).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Requests for the same debtor, channel and template fold into this message until then.
    merge_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    merge_key: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: SHA-256 of the request that created it (a reused key with another request is refused).
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    #: Reason codes of the last block or failure.
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    history: Mapped[list[MessageHistory]] = relationship(
        order_by="MessageHistory.seq", lazy="selectin", cascade="all, delete-orphan"
    )


class MessageHistory(TenantScoped, Base):
    """One step of a message: from which status to which, when and why (receipts too)."""

    __tablename__ = "notifications_message_history"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("notifications_messages.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InboundMessage(TenantScoped, Base):
    """A reply that arrived on a provider's inbound callback (an opt-out or not)."""

    __tablename__ = "notifications_inbound"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    sender: Mapped[str] = mapped_column(String(320), index=True)
    text: Mapped[str] = mapped_column(Text)
    debtor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: The outbound message it answers, when the provider or the thread says.
    in_reply_to: Mapped[str | None] = mapped_column(String(32), nullable=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
