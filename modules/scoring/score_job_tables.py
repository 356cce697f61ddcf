"""The score-job table: batches too large to score in one request (up to 100,000 records).

Like a training data set, the request is kept as zlib-compressed JSON in one binary column:
100,000 records of a dozen features are about 10 MB of JSON but well under 1 MB compressed,
and they are read once, when the job starts. The results, written only once the whole batch
scored, are kept the same way and paged from there; a failed job keeps its faults and no
results (scoring is all or nothing, as ``POST /score`` is).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from almacen.gateway.db import Base, TenantScoped, UTCDateTime, new_id, utcnow

__all__ = ["ScoreJob"]


class ScoreJob(TenantScoped, Base):
    """Scoring a large batch with one model version: status, progress, faults, results.

    Written in short transactions of its own (as training jobs are) so that progress can be
    polled while the job runs in a background thread.
    """

    __tablename__ = "scoring_score_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    #: The version resolved when the job was made (a purpose's champion then).
    model_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("scoring_models.id", ondelete="CASCADE"), index=True
    )
    #: ``{id, name, version, purpose, role}`` of that version when the job was made.
    model: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Whether each score is kept as a score record for monitoring (``record`` of the request).
    record: Mapped[bool] = mapped_column(Boolean, default=True)
    #: How many records were sent, and how many are scored so far.
    records: Mapped[int] = mapped_column(Integer)
    scored: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: 0 to 100.
    progress: Mapped[int] = mapped_column(Integer, default=0)
    #: ``[{"pointer", "detail"}]`` when the job failed (at most the first 100 faults).
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: The records as sent (a JSON array), zlib-compressed.
    request: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    #: One result per record, in order (a JSON array), zlib-compressed; once succeeded.
    results: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name="status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
    )
