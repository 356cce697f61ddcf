"""Resolving operationIds to handlers, relative to a module's ``api`` package.

connexion 3.3 pools the content types of *all* of an operation's responses and then cannot
tell which one a handler returned (every operation here documents ``application/json`` for
success and ``application/problem+json`` for errors; a limitation connexion notes itself in
``operations/openapi.py``). Handlers stay plain: this resolver wraps each one so that a
dict or list it returns is declared ``application/json``, and so that a transaction the
database aborted for a concurrent one is run again (:func:`~.state.run_handler`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from connexion.resolver import RelativeResolver

from .state import run_handler

__all__ = ["HandlerResolver"]

_JSON = {"Content-Type": "application/json"}


def _declare_json(result: Any) -> Any:
    if isinstance(result, dict | list):
        return result, 200, _JSON
    if isinstance(result, tuple) and result and isinstance(result[0], dict | list):
        if len(result) == 2:
            return result[0], result[1], _JSON
        if len(result) == 3:
            headers = dict(result[2])
            if not any(name.lower() == "content-type" for name in headers):
                headers.update(_JSON)
            return result[0], result[1], headers
    return result


class HandlerResolver(RelativeResolver):
    """A :class:`~connexion.resolver.RelativeResolver` whose handlers declare JSON results."""

    def __init__(self, root_path: str) -> None:
        super().__init__(root_path, function_resolver=self._resolve)

    @staticmethod
    def _resolve(name: str) -> Callable[..., Any]:
        from connexion.utils import get_function_from_name

        handler = get_function_from_name(name)

        @functools.wraps(handler)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return _declare_json(run_handler(handler, *args, **kwargs))

        return wrapper
