"""A plugin that adds a route and an error handler in ``almacen_prepare_app``."""

from __future__ import annotations

import json
from typing import Any

from connexion.lifecycle import ConnexionResponse

from almacen import hookimpl


class TeapotError(Exception):
    """Raised by the ``/v1/teapot`` route; only this plugin's handler knows it."""


def _teapot(_request: Any, exc: Exception) -> ConnexionResponse:
    problem = {"type": "about:blank", "title": "I'm a teapot", "status": 418, "detail": str(exc)}
    return ConnexionResponse(
        status_code=418, content_type="application/problem+json", body=json.dumps(problem)
    )


def _brew() -> Any:
    raise TeapotError("short and stout")


@hookimpl
def almacen_prepare_app(app: Any, settings: Any) -> None:
    app.add_url_rule("/v1/prepared", "prepared", lambda: {"rate_limit": settings.rate_limit})
    app.add_url_rule("/v1/teapot", "teapot", _brew)
    app.add_error_handler(TeapotError, _teapot)
