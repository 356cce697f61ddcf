"""The training tables: labelled data sets a tenant uploads, and the jobs that train on them.

A data set keeps the document exactly as the tenant sent it, compressed with zlib in one
binary column, beside what validation learnt about it (rows, columns and their kinds, the
target and its event label). Why the raw text rather than rows as JSON: it is the audit copy
of what the model was trained on; CSV compresses five to ten times (100,000 rows × 20
columns is about 1 MB instead of the 20 MB a JSON array of objects would take); and parsing
it again when a job starts costs well under a second, so nothing is gained by storing parsed
rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from almacen.gateway.db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["TrainingDataset", "TrainingJob"]


class TrainingDataset(TenantScoped, Base):
    """A tenant's labelled data set: the compressed document and its validated shape."""

    __tablename__ = "scoring_training_datasets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    #: ``csv`` or ``jsonl``.
    format: Mapped[str] = mapped_column(String(8))
    rows: Mapped[int] = mapped_column(Integer)
    #: The target column's name.
    target: Mapped[str] = mapped_column(String(200))
    #: The target value counted as the event (1): ``"1"`` for 0/1 targets, else the label given.
    event: Mapped[str] = mapped_column(String(200))
    #: Rows whose target is the event.
    events: Mapped[int] = mapped_column(Integer)
    #: The characteristics, in document order: ``[{"name", "kind": numeric|categorical}]``.
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: The document as uploaded (UTF-8), zlib-compressed.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint("format IN ('csv', 'jsonl')", name="format"),)


class TrainingJob(TenantScoped, Base):
    """Training a scorecard on a data set: status, progress, the report and the draft made.

    Written in short transactions of its own (like the ledger's import jobs) so that progress
    can be polled while the job runs in a background thread.
    """

    __tablename__ = "scoring_training_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    dataset_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("scoring_training_datasets.id", ondelete="CASCADE"), index=True
    )
    #: The name and purpose the draft model gets.
    name: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(32))
    #: What was asked: ``characteristics``, ``scaling`` and the binning options.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: 0 to 100.
    progress: Mapped[int] = mapped_column(Integer, default=0)
    #: What the job is doing now (``binning``, ``fitting``, ``cross-validating``, ...).
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    #: Metrics, the bin tables and the cross-validation (see :mod:`..training`).
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: The scorecard document trained (also saved as the draft model).
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: The draft model made from the document, when the registry is there.
    model_id: Mapped[str | None] = mapped_column(String(32), default=None)
    #: ``[{"pointer", "detail"}]`` when the job failed.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name="status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
    )
