"""``/imports`` and ``/synthetic-portfolio``: portfolio onboarding jobs.

A batch of up to :data:`SYNC_ROWS` rows runs inside the request (201, the job finished):
validating and writing a thousand rows takes well under a second, and the client gets its
answer without polling. A larger batch, or any request sent with ``Prefer: respond-async``
(RFC 7240), runs in a background thread of this process (202, poll the job). Either way the
job row is committed first in a transaction of its own, and the batch is written in one
transaction of its own, all or nothing; the request's session is not used. A process that
dies mid-job leaves it ``running``: in production, run large imports on the task queue the
deployment already has, calling :func:`~..onboarding.run_job` the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import flask

from almacen.gateway.errors import UnprocessableError
from almacen.gateway.state import current_gateway, current_principal, request_session

from .. import accounts, onboarding, synthetic
from ..schemas import ImportJobSchema

__all__ = ["SYNC_ROWS", "create_import", "create_synthetic_portfolio", "get_import"]

#: Batches up to this many rows run within the request.
SYNC_ROWS = 1_000

_job = ImportJobSchema()


def _tenant_id() -> str:
    principal = current_principal()
    assert principal is not None
    assert principal.tenant_id is not None
    return principal.tenant_id


def _start(
    source: str,
    rows: Sequence[Mapping[str, Any] | onboarding.RowError],
    *,
    portfolio: Sequence[synthetic.SyntheticAccount] | None = None,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    db = current_gateway().db
    tenant_id = _tenant_id()
    if len(rows) > onboarding.MAX_ROWS:
        detail = f"{len(rows)} rows; an import takes at most {onboarding.MAX_ROWS}"
        raise UnprocessableError(detail, errors=[{"pointer": "/data", "detail": detail}])
    job = onboarding.create_job(db, tenant_id, source=source, rows_total=len(rows))
    after = None
    if portfolio is not None:
        chosen = portfolio

        def after(session: Any, batch: onboarding.Batch, valid: Any) -> None:
            synthetic.write_behaviour(session, batch, valid, chosen)

    def work() -> None:
        onboarding.run_job(db, tenant_id, job.id, rows, today=accounts.today(), after_write=after)

    prefer = flask.request.headers.get("Prefer", "")
    if len(rows) > SYNC_ROWS or "respond-async" in prefer.lower():
        threading.Thread(target=work, name=f"import-{job.id}", daemon=True).start()
        location = flask.request.base_url.rsplit("/", 1)[0] + f"/imports/{job.id}"
        return dict(_job.dump(job)), 202, {"Location": location}
    work()
    with db.session(tenant_id=tenant_id) as session:
        return dict(_job.dump(onboarding.get_job(session, job.id))), 201, {}


def create_import(body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Import a portfolio from CSV or JSON Lines."""
    return _start(body["format"], onboarding.parse(body["data"], body["format"]))


def create_synthetic_portfolio(body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Generate a seeded synthetic portfolio and import it."""
    portfolio = synthetic.generate(body["size"], seed=body.get("seed", 0), today=accounts.today())
    return _start("synthetic", [item.row for item in portfolio], portfolio=portfolio)


def get_import(import_id: str) -> dict[str, Any]:
    """An import job's status, progress and errors."""
    return dict(_job.dump(onboarding.get_job(request_session(), import_id)))
