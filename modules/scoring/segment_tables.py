"""Tables of segmentation and monitoring: rule sets, assignments with history, drift runs.

Every row is tenant-scoped. Account ids are not foreign keys: a tenant may segment accounts
that live outside the ledger (the ledger is optional), so they are the caller's ids.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from almacen.gateway.db import Base, ExactDecimal, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["MonitoringRun", "SegmentAssignment", "SegmentRuleSet"]

#: Exact on every backend: never a float, not even in SQLite.
MONEY = ExactDecimal(20, 4)
#: Stability indices are kept to six places (the arithmetic is floating point; the stored
#: figure is what the API shows and what the threshold was compared with).
INDEX = ExactDecimal(20, 6)


class SegmentRuleSet(TenantScoped, Base):
    """One version of a tenant's ordered segment rules; the newest is the active one.

    ``rules`` is the list of ``{name, if, segment, treatments}`` (first match wins);
    ``default_segment`` is ``{segment, treatments}``, for an account no rule matches.
    """

    __tablename__ = "scoring_segment_rule_sets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    default_segment: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "version", name="uq_scoring_segment_rule_sets_version"),
    )


class SegmentAssignment(TenantScoped, Base):
    """An account's segment from ``assigned_at`` until ``ended_at`` (None: the current one).

    A change of segment ends the current row and inserts a new one, so the rows of an
    account are its history. At most one current row per account (a partial unique index):
    two concurrent assignments of one account cannot both win.
    """

    __tablename__ = "scoring_segment_assignments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str] = mapped_column(String(100))
    treatments: Mapped[list[str]] = mapped_column(JSON)
    #: The rule that matched (None: the default segment).
    rule: Mapped[str | None] = mapped_column(String(100), default=None)
    score: Mapped[int | None] = mapped_column(Integer, default=None)
    balance: Mapped[Decimal | None] = mapped_column(MONEY, default=None)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    rule_set_version: Mapped[int] = mapped_column(Integer)
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        Index("ix_scoring_segment_assignments_account", "tenant_id", "account_id", "assigned_at"),
        Index(
            "uq_scoring_segment_assignments_current",
            "tenant_id",
            "account_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
    )


class MonitoringRun(TenantScoped, Base):
    """One stability check of a model: PSI of scores and CSI per characteristic.

    ``detail`` holds the bin tables (expected and actual shares per bin) of the score and of
    each characteristic, so a run can be explained without recomputing it.
    """

    __tablename__ = "scoring_monitoring_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    model_id: Mapped[str] = mapped_column(String(32))
    window_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    window_to: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: ``model`` (the training baseline in the model document) or ``window``.
    baseline: Mapped[str] = mapped_column(String(16))
    records: Mapped[int] = mapped_column(Integer)
    psi: Mapped[Decimal] = mapped_column(INDEX)
    threshold: Mapped[Decimal] = mapped_column(INDEX)
    drifted: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_scoring_monitoring_runs_model", "tenant_id", "model_id", "created_at"),
    )
