"""One place that turns every error into ``application/problem+json`` (RFC 9457).

Registered on connexion's exception middleware, so it covers our :class:`AlmacenError`
hierarchy, connexion's own problems (validation, routing), Starlette/werkzeug HTTP errors
(404, 405) and anything unexpected (a 500 that never shows a stack trace).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from .db import aborted_for_concurrency
from .errors import PROBLEM_BASE, AlmacenError
from .markers import hookimpl
from .requestcontext import current_request_id

__all__ = ["PROBLEM_JSON", "install_error_handlers", "problem_response"]

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("almacen.errors")

_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("unprocessable", "Unprocessable request"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal-error", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}


def problem_response(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    type_: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> ConnexionResponse:
    """Build a problem document response; ``extensions`` become extra members."""
    slug, default_title = _SLUGS.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": type_ or PROBLEM_BASE + slug,
        "title": title or default_title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update({k: v for k, v in extensions.items() if v not in (None, [], {})})
    return ConnexionResponse(
        status_code=status,
        mimetype=PROBLEM_JSON,
        content_type=PROBLEM_JSON,
        body=json.dumps(body, default=str),
        headers=dict(headers or {}),
    )


def _almacen_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, AlmacenError)
    if exc.status >= 500:
        logger.error("%s", exc.detail, exc_info=exc)
    return problem_response(
        exc.status,
        title=exc.title,
        detail=exc.detail,
        type_=exc.type,
        headers=exc.headers,
        errors=exc.errors,
        **exc.extensions,
    )


def _connexion_problem(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, ProblemException)
    status = int(exc.status or 500)
    if status >= 500:
        logger.error("%s: %s", type(exc).__name__, exc.detail, exc_info=exc)
    type_ = exc.type if exc.type and exc.type != "about:blank" else None
    if status == 400 and type_ is None:
        # connexion reports body, query and header validation this way.
        type_ = PROBLEM_BASE + "validation-error"
    return problem_response(
        status,
        title=exc.title if exc.title and status < 500 else None,
        detail=str(exc.detail) if exc.detail and status < 500 else None,
        type_=type_,
        headers=exc.headers,
        **(exc.ext or {}),
    )


def _http_error(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    detail = exc.detail if status < 500 else None
    if status == 404:
        detail = "No operation is defined at this path."
    elif status == 405:
        detail = "The path exists, but not for this HTTP method."
    return problem_response(status, detail=detail, headers=exc.headers)


def _database_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    # SQLite allows one writer: a long write (a large import) makes others wait out
    # busy_timeout and fail. That is "busy, retry", not a server bug.
    if "database is locked" in str(getattr(exc, "orig", exc)):
        logger.warning("database busy: %s", exc)
        return problem_response(
            503,
            detail="The database is busy with another write; retry shortly.",
            headers={"Retry-After": "5"},
        )
    if aborted_for_concurrency(exc):
        # Still aborted after the handler's attempts (state.run_handler); nothing was written.
        logger.warning("transaction aborted for a concurrent one: %s", exc)
        return problem_response(
            503,
            detail="The request collided with concurrent ones and was not applied; retry it.",
            headers={"Retry-After": "1"},
        )
    return _unexpected(request, exc)


def _unexpected(_request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
    logger.error("unhandled %s", type(exc).__name__, exc_info=exc)
    return problem_response(
        500, detail="The server failed to handle the request; it has been logged."
    )


def install_error_handlers(app: Any) -> None:
    """Register the problem handlers on a connexion app (also: the essential plugin below)."""
    app.add_error_handler(AlmacenError, _almacen_error)
    app.add_error_handler(ProblemException, _connexion_problem)
    app.add_error_handler(HTTPException, _http_error)
    app.add_error_handler(OperationalError, _database_error)
    app.add_error_handler(Exception, _unexpected)


@hookimpl(tryfirst=True)
def almacen_prepare_app(app: Any) -> None:
    """Essential plugin: problem documents for every error. ``tryfirst`` so that a plugin's
    own ``almacen_prepare_app`` can still register a handler for a more specific exception."""
    install_error_handlers(app)
