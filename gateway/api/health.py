"""Liveness, readiness and metrics."""

from __future__ import annotations

from typing import Any

from prometheus_client import generate_latest
from sqlalchemy import text

from ..problems import problem_response
from ..state import current_gateway


def healthz() -> dict[str, Any]:
    """The process is up."""
    return {"status": "ok"}


def readyz() -> Any:
    """The database answers a trivial query."""
    gateway = current_gateway()
    try:
        with gateway.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return problem_response(503, detail=f"The database does not answer: {type(exc).__name__}.")
    return {"status": "ok", "database": gateway.db.engine.dialect.name}


def metrics() -> Any:
    """Prometheus text exposition of this worker's counters."""
    body = generate_latest(current_gateway().metrics.registry)
    # The text exposition format; scrapers treat plain text/plain as its default version.
    return body.decode(), 200, {"Content-Type": "text/plain"}
