"""``/training-jobs``: train a scorecard on a data set, in the background, with progress.

The job row is committed first, in a transaction of its own, then a background thread of
this process trains (seconds for a thousand rows, about half a minute for 100,000) while
the client polls ``GET /training-jobs/{job_id}`` (202 + ``Location``, as the ledger's large
imports). A process that dies mid-job leaves it ``running``: in production, run training
on the deployment's task queue, calling :func:`~..training.run_job` the same way.
"""

from __future__ import annotations

import threading
from typing import Any

import flask

from almacen.gateway.state import current_gateway, current_principal, request_session

from .. import training
from ..training_schemas import TrainingJobSchema

__all__ = ["create_training_job", "get_training_job", "list_training_jobs"]

_job = TrainingJobSchema()


def create_training_job(body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Queue a training job on one of the tenant's data sets and start it."""
    db = current_gateway().db
    principal = current_principal()
    assert principal is not None
    assert principal.tenant_id is not None
    tenant_id = principal.tenant_id
    job = training.create_job(db, tenant_id, body)
    threading.Thread(
        target=training.run_job,
        args=(db, tenant_id, job.id),
        name=f"training-{job.id}",
        daemon=True,
    ).start()
    location = flask.request.base_url.rstrip("/") + f"/{job.id}"
    return dict(_job.dump(job)), 202, {"Location": location}


def list_training_jobs(limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """A page of the tenant's training jobs, oldest first."""
    found = training.list_jobs(request_session(), limit=limit, cursor=cursor)
    return {"items": _job.dump(found.items, many=True), "next": found.next_cursor}


def get_training_job(job_id: str) -> dict[str, Any]:
    """A training job's status, progress and (once it succeeded) report and draft model."""
    return dict(_job.dump(training.get_job(request_session(), job_id)))
