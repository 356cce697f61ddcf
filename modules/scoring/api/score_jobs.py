"""``/score-jobs``: score a batch of up to 100,000 records in the background.

The request is checked and the job committed first, then a background thread of this
process scores it in chunks of 10,000 (as training jobs run, see :mod:`.training`) while the
client polls ``GET /score-jobs/{job_id}`` (202 + ``Location``) and then pages through
``GET /score-jobs/{job_id}/results``. A process that dies mid-job leaves it ``running``: in
production, run it on the deployment's task queue, calling
:func:`~..score_jobs.run_job` the same way.
"""

from __future__ import annotations

import threading
from typing import Any

import flask
from marshmallow import Schema, fields

from almacen.gateway.state import current_gateway, current_principal, request_session

from .. import score_jobs

__all__ = ["create_score_job", "get_score_job", "get_score_job_results"]


class ScoreJobSchema(Schema):
    """A score job as the API shows it: status, progress, counts, faults, the model."""

    id = fields.String()
    model = fields.Dict()
    record = fields.Boolean()
    records = fields.Integer()
    scored = fields.Integer()
    status = fields.String()
    progress = fields.Integer()
    errors = fields.List(fields.Dict())
    created_at = fields.AwareDateTime()
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)


_job = ScoreJobSchema()


def create_score_job(body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Queue a score job (model and request checked first) and start it."""
    db = current_gateway().db
    principal = current_principal()
    assert principal is not None
    assert principal.tenant_id is not None
    tenant_id = principal.tenant_id
    job = score_jobs.create_job(db, tenant_id, body)
    threading.Thread(
        target=score_jobs.run_job,
        args=(db, tenant_id, job.id),
        name=f"score-job-{job.id}",
        daemon=True,
    ).start()
    location = flask.request.base_url.rstrip("/") + f"/{job.id}"
    return dict(_job.dump(job)), 202, {"Location": location}


def get_score_job(job_id: str) -> dict[str, Any]:
    """A score job's status, progress, counts and (when it failed) faults."""
    return dict(_job.dump(score_jobs.get_job(request_session(), job_id)))


def get_score_job_results(job_id: str, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """A page of a succeeded job's results, in record order, as ``POST /score`` gives them."""
    job, results = score_jobs.get_results(request_session(), job_id, limit=limit, offset=offset)
    return {
        "model": job.model,
        "results": results,
        "total": job.records,
        "limit": limit,
        "offset": offset,
    }
