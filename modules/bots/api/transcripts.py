"""``/transcripts``: every turn of the tenant's conversations, as JSON lines or CSV."""

from __future__ import annotations

import datetime as dt

import flask

from almacen.gateway.errors import RequestValidationError
from almacen.gateway.state import request_session

from .. import service

__all__ = ["export"]

# JSON lines go out as text/plain: the gateway validates every */*json body as one document.
_TYPES = {"jsonl": "text/plain; charset=utf-8", "csv": "text/csv; charset=utf-8"}


def export(format: str = "jsonl", since: str | None = None) -> flask.Response:
    """The transcripts, one turn a line (from ``since`` on, when given)."""
    start = None
    if since is not None:
        try:
            start = dt.datetime.fromisoformat(since)
        except ValueError:
            start = None
        if start is None or start.tzinfo is None:
            raise RequestValidationError(
                f"{since!r} is not a timestamp with a time zone.",
                errors=[{"parameter": "since", "in": "query", "detail": "not an RFC 3339 time"}],
            )
    text = service.export(request_session(), fmt=format, since=start)
    return flask.Response(text, status=200, headers={"Content-Type": _TYPES[format]})
