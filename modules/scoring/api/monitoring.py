"""``/models/{model_id}/monitoring``: stability runs of a model (PSI and CSI)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, fields

from almacen.gateway.errors import RequestValidationError, UnprocessableError
from almacen.gateway.state import request_session

from .. import monitoring as service
from ..settings import settings_for

__all__ = ["list_runs", "run"]

#: The window when the caller gives none: the 30 days to now.
DEFAULT_WINDOW = dt.timedelta(days=30)


class MonitoringRunSchema(Schema):
    """A stored run as the API shows it."""

    id = fields.String()
    model_id = fields.String()
    window_from = fields.DateTime()
    window_to = fields.DateTime()
    baseline = fields.String()
    records = fields.Integer()
    psi = fields.Decimal(as_string=True)
    threshold = fields.Decimal(as_string=True)
    drifted = fields.Boolean()
    score_bins = fields.Function(lambda run: run.detail["score_bins"])
    characteristics = fields.Function(lambda run: run.detail["characteristics"])
    created_at = fields.DateTime()


_run = MonitoringRunSchema()


def run(model_id: str, body: dict[str, Any] | None = None) -> tuple[dict[str, Any], int]:
    """Compute the model's stability over a window now, and store the run."""
    body = body or {}
    window_to = _time(body, "window_to") or dt.datetime.now(dt.UTC)
    window_from = _time(body, "window_from") or window_to - DEFAULT_WINDOW
    window = _window(window_from, window_to, "/window_from")
    baseline = None
    if "baseline_from" in body or "baseline_to" in body:
        start, end = _time(body, "baseline_from"), _time(body, "baseline_to")
        if start is None or end is None:
            raise UnprocessableError(
                "A baseline window needs both baseline_from and baseline_to.",
                errors=[
                    {"pointer": f"/{name}", "detail": "required with the other baseline bound"}
                    for name in ("baseline_from", "baseline_to")
                    if name not in body
                ],
            )
        baseline = _window(start, end, "/baseline_from")
    session = request_session()
    found = service.run(
        session,
        model_id,
        window=window,
        baseline=baseline,
        threshold=settings_for(session)["drift_threshold"],
    )
    return dict(_run.dump(found)), 201


def list_runs(model_id: str, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """A page of the model's runs, oldest first."""
    found = service.list_runs(request_session(), model_id, limit=limit, cursor=cursor)
    return {"items": _run.dump(found.items, many=True), "next": found.next_cursor}


def _time(body: dict[str, Any], name: str) -> dt.datetime | None:
    """A date-time member of the body (UTC when it has no offset); None when absent."""
    if name not in body:
        return None
    try:
        value = dt.datetime.fromisoformat(str(body[name]))
    except ValueError:
        raise RequestValidationError(
            f"{name} is not a date-time.",
            errors=[{"pointer": f"/{name}", "detail": "not an ISO 8601 date-time"}],
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _window(start: dt.datetime, end: dt.datetime, pointer: str) -> service.Window:
    if start >= end:
        raise UnprocessableError(
            "A window must start before it ends.",
            errors=[{"pointer": pointer, "detail": "must be earlier than the window's end"}],
        )
    return service.Window(start, end)
