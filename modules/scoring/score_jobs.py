"""Score jobs: scoring a batch too large for one request (up to 100,000 records).

The request is checked (model, shape, size) and stored compressed as a queued
:class:`ScoreJob` in a transaction of its own; a background thread then scores it the way
training jobs run (:mod:`.training`): in chunks of :data:`~.scoring.MAX_RECORDS` with the
same engine as ``POST /score`` (:func:`~.scoring.score_records`), recording ``progress`` and
``scored`` after each chunk in short transactions so that clients can poll.

Scoring is all or nothing, as a synchronous batch is: the chunks are scored without writing
anything, faults are gathered (pointers ``/records/<i>/features/<name>`` into the whole
batch, at most :data:`MAX_ERRORS`), and only a batch without faults is written, in one
transaction: the compressed results, and the score records when ``record`` asks for them.
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from almacen.gateway.db import Database, utcnow
from almacen.gateway.errors import AlmacenError, ConflictError, NotFoundError, UnprocessableError

from .registry import model_ref
from .score_job_tables import ScoreJob
from .scoring import MAX_RECORDS, keep_scores, resolve_model, score_records

__all__ = [
    "CHUNK",
    "MAX_ERRORS",
    "MAX_JOB_RECORDS",
    "create_job",
    "get_job",
    "get_results",
    "run_job",
]

logger = logging.getLogger(__name__)

#: The largest batch a job scores.
MAX_JOB_RECORDS = 100_000
#: Records scored at a time: the synchronous limit, so each chunk is a ``POST /score``.
CHUNK = MAX_RECORDS
#: Faults kept on a failed job (the first ones, in record order).
MAX_ERRORS = 100

_RECORD = re.compile(r"^/records/(\d+)")


def _pack(value: Any) -> bytes:
    """Compact JSON, zlib-compressed (the storage of requests and results)."""
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 6)


def _unpack(data: bytes) -> Any:
    return json.loads(zlib.decompress(data).decode())


def create_job(db: Database, tenant_id: str, body: Mapping[str, Any]) -> ScoreJob:
    """Check the request and record a queued job with its records (committed at once).

    :raises NotFoundError: no such model, or no champion for the purpose.
    :raises ConflictError: the model version is retired.
    :raises UnprocessableError: no records, or more than :data:`MAX_JOB_RECORDS`.
    """
    records = list(body.get("records") or ())
    if not records:
        raise UnprocessableError(
            "no records to score", errors=[{"pointer": "/records", "detail": "at least 1 record"}]
        )
    if len(records) > MAX_JOB_RECORDS:
        raise UnprocessableError(
            f"{len(records)} records: a score job scores at most {MAX_JOB_RECORDS:,}",
            errors=[{"pointer": "/records", "detail": f"at most {MAX_JOB_RECORDS} records"}],
        )
    with db.transaction(tenant_id=tenant_id) as session:
        model = resolve_model(session, model_id=body.get("model_id"), purpose=body.get("purpose"))
        job = ScoreJob(
            model_id=model.id,
            model=model_ref(model),
            record=bool(body.get("record", True)),
            records=len(records),
            scored=0,
            status="queued",
            progress=0,
            errors=[],
            request=_pack(records),
        )
        session.add(job)
    return job


def _update(db: Database, tenant_id: str, job_id: str, **values: Any) -> None:
    with db.transaction(tenant_id=tenant_id) as session:
        session.execute(update(ScoreJob).where(ScoreJob.id == job_id).values(**values))


def _shift(error: Mapping[str, Any], start: int) -> dict[str, Any]:
    """A chunk's fault with its pointer moved from the chunk's record to the batch's."""
    moved = dict(error)
    pointer = moved.get("pointer")
    if isinstance(pointer, str):
        moved["pointer"] = _RECORD.sub(lambda m: f"/records/{int(m.group(1)) + start}", pointer)
    return moved


def _score_all(
    db: Database, tenant_id: str, job_id: str, model_id: str, records: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Score every chunk without writing: the results, or the faults (then no results).

    Each chunk gets a short session of its own (no read transaction stays open across the
    progress updates, which SQLite would make wait).
    """
    total = len(records)
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for start in range(0, total, CHUNK):
        chunk = records[start : start + CHUNK]
        with db.session(tenant_id=tenant_id) as session:
            model = resolve_model(session, model_id=model_id)
            try:
                scored = score_records(session, model, chunk, record=False)
            except UnprocessableError as exc:
                faults = exc.errors or [{"pointer": "/records", "detail": exc.detail}]
                errors.extend(_shift(e, start) for e in faults)
                if len(errors) >= MAX_ERRORS:
                    break
                continue
        if not errors:
            results.extend(scored.results)
        done = start + len(chunk)
        _update(
            db,
            tenant_id,
            job_id,
            progress=min(99, done * 100 // total),
            scored=len(results),
        )
    return ([], errors[:MAX_ERRORS]) if errors else (results, [])


def run_job(db: Database, tenant_id: str, job_id: str) -> None:
    """Score the job's records chunk by chunk, then store the results (and score records).

    Any failure ends the job ``failed`` with its errors (the records' faults, a problem's own
    errors, or "internal error" with the details in the log); nothing else is written then.
    """
    try:
        with db.session(tenant_id=tenant_id) as session:
            job = session.get_one(ScoreJob, job_id)
            records: list[dict[str, Any]] = _unpack(job.request)
            model_id, keep = job.model_id, job.record
        _update(db, tenant_id, job_id, status="running", started_at=utcnow())
        results, errors = _score_all(db, tenant_id, job_id, model_id, records)
        if errors:
            raise UnprocessableError(f"{len(errors)} faults in the records", errors=errors)
        with db.transaction(tenant_id=tenant_id) as session:
            if keep:
                keep_scores(session, resolve_model(session, model_id=model_id), records, results)
            session.execute(
                update(ScoreJob)
                .where(ScoreJob.id == job_id)
                .values(
                    status="succeeded",
                    progress=100,
                    scored=len(results),
                    results=_pack(results),
                    finished_at=utcnow(),
                )
            )
    except AlmacenError as exc:
        _update(
            db,
            tenant_id,
            job_id,
            status="failed",
            errors=[dict(e) for e in exc.errors][:MAX_ERRORS] or [{"detail": exc.detail}],
            finished_at=utcnow(),
        )
    except Exception:
        logger.exception("score job %s failed", job_id)
        _update(
            db,
            tenant_id,
            job_id,
            status="failed",
            errors=[{"detail": "internal error; see the server log"}],
            finished_at=utcnow(),
        )


def get_job(session: Session, job_id: str) -> ScoreJob:
    """One of the tenant's score jobs. :raises NotFoundError: when there is none."""
    job = session.scalar(select(ScoreJob).where(ScoreJob.id == job_id))
    if job is None:
        raise NotFoundError(f"no score job {job_id}")
    return job


def get_results(
    session: Session, job_id: str, *, limit: int, offset: int
) -> tuple[ScoreJob, list[dict[str, Any]]]:
    """A succeeded job and ``limit`` of its results from ``offset`` (record order).

    :raises NotFoundError: when the job is not the tenant's.
    :raises ConflictError: when the job has not succeeded (it has no results).
    """
    job = get_job(session, job_id)
    if job.status != "succeeded" or job.results is None:
        raise ConflictError(f"score job {job_id} is {job.status}: it has no results")
    results: list[dict[str, Any]] = _unpack(job.results)
    return job, results[offset : offset + limit]
