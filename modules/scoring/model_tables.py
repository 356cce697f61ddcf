"""The model registry's tables: model versions (documents) and the score records kept for
monitoring. Every row is tenant-scoped.

A model version is a JSON document validated by its model type; ``name`` + ``version``
identify it for people, ``id`` for machines. Score records are append-only and written in
bulk: the monitoring engine computes population stability over a recent window of them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from almacen.gateway.db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["ROLES", "STATUSES", "ScoreRecord", "ScoringModel"]

#: A model's life: edited as a draft, scoring while active, kept for history when retired.
STATUSES = ("draft", "active", "retired")
#: An active model's role within its purpose: one champion, any number of challengers.
ROLES = ("champion", "challenger")


class ScoringModel(TenantScoped, Base):
    """One version of a tenant's model: its document and its place in the registry."""

    __tablename__ = "scoring_models"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    #: 1, 2, ... per tenant and name, in creation order.
    version: Mapped[int] = mapped_column(Integer)
    #: ``risk`` or ``propensity`` (copied from the document, to filter and to find champions).
    purpose: Mapped[str] = mapped_column(String(32))
    #: The model type (``scorecard`` or one a plugin adds), copied from the document.
    type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    #: ``champion`` or ``challenger`` while active; None for drafts and retired versions.
    role: Mapped[str | None] = mapped_column(String(16), default=None)
    description: Mapped[str | None] = mapped_column(String(500), default=None)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        UniqueConstraint("tenant_id", "name", "version", name="uq_scoring_models_name_version"),
        Index("ix_scoring_models_purpose_status", "tenant_id", "purpose", "status"),
    )


class ScoreRecord(TenantScoped, Base):
    """A score given by a model version, kept for stability monitoring (PSI and CSI)."""

    __tablename__ = "scoring_score_records"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    model_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("scoring_models.id", ondelete="CASCADE")
    )
    #: What was scored, when the caller said (``account`` and its id, say).
    subject_type: Mapped[str | None] = mapped_column(String(32), default=None)
    subject_id: Mapped[str | None] = mapped_column(String(100), default=None)
    score: Mapped[int] = mapped_column(Integer)
    probability: Mapped[float] = mapped_column(Float)
    #: The bin label each characteristic fell in, by characteristic name.
    bins: Mapped[dict[str, Any]] = mapped_column(JSON)
    scored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_scoring_score_records_model_scored", "tenant_id", "model_id", "scored_at"),
    )
