"""Tables of conversations, their turns and the handover queue; every row tenant-scoped.

A conversation is about one account (when known) and reached through one channel and
address. Each turn keeps what the debtor said, what the bot understood (intent, confidence,
entities), the actions it called with their results, and what it answered: the transcript
an agent reads on handover and the audit a regulator may ask for.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from almacen.gateway.db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["Conversation", "HandoverItem", "Turn"]


class Conversation(TenantScoped, Base):
    """One conversation with a debtor: its state in the dialogue and what it came to."""

    __tablename__ = "bots_conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    debtor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: ``web``, ``api``, ``sms``, ``whatsapp``.
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True)
    locale: Mapped[str] = mapped_column(String(8))
    #: A state of :data:`almacen.modules.bots.machine.STATES`.
    state: Mapped[str] = mapped_column(String(32), index=True)
    #: promise, plan, settlement, opted_out, wrong_person, already_paid, dispute, hardship,
    #: handover, locked, ... once ended.
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    turn_count: Mapped[int] = mapped_column(Integer, default=0)
    identity_failures: Mapped[int] = mapped_column(Integer, default=0)
    #: Slots being filled (pending amount/date, the offer on the table, misunderstandings).
    slots: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    turns: Mapped[list[Turn]] = relationship(
        order_by="Turn.seq", lazy="raise", cascade="all, delete-orphan"
    )


class Turn(TenantScoped, Base):
    """One exchange: the debtor's message (none for the opening) and the bot's reply."""

    __tablename__ = "bots_turns"
    __table_args__ = (
        UniqueConstraint("conversation_id", "message_id", name="uq_bots_turns_message"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("bots_conversations.id", ondelete="CASCADE"), index=True
    )
    #: 0 for the bot's opening, then 1, 2, ... in order.
    seq: Mapped[int] = mapped_column(Integer)
    #: The sender's id of this message (an inbound id, a client's id): a repeat is one turn.
    message_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    user_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    entities: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: ``[{"name": ..., "ok": bool, "result"|"error": ...}]`` in call order.
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reply: Mapped[str] = mapped_column(Text)
    state_before: Mapped[str] = mapped_column(String(32))
    state_after: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HandoverItem(TenantScoped, Base):
    """A conversation waiting for a person, and why."""

    __tablename__ = "bots_handovers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("bots_conversations.id", ondelete="CASCADE"), index=True
    )
    #: requested, identity_failed, not_understood, dispute, hardship, already_paid, max_turns,
    #: approval, module_missing.
    reason: Mapped[str] = mapped_column(String(32))
    #: ``waiting`` until an agent takes it (``taken``), then ``resolved``.
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The agent (a name or an id of the tenant's own) working on it.
    taken_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: How the person resolved it (see :data:`~.handover_work.RESOLUTIONS`), with a note.
    resolution: Mapped[str | None] = mapped_column(String(32), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
