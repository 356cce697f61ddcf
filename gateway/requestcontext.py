"""Request ids, access logs and Prometheus metrics: the outermost ASGI middleware.

It accepts a client's ``X-Request-ID`` (or makes one), exposes it to logging and problem
documents through a context variable, echoes it on the response, writes one structured
access-log line, and counts requests and latency per module and status.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Metrics", "RequestContextMiddleware", "current_request_id"]

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "almacen_request_id", default=None
)
_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
access_log = logging.getLogger("almacen.access")


def current_request_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    return _request_id.get()


class Metrics:
    """The gateway's Prometheus collectors, in a registry of their own per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "almacen_http_requests",
            "HTTP requests served, by module, method and status.",
            ("module", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "almacen_http_request_duration_seconds",
            "Time to serve a request, by module.",
            ("module",),
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        )
        self.rate_limit_errors = Counter(
            "almacen_rate_limit_storage_errors",
            "Rate-limit checks that failed open because the storage was unreachable.",
            registry=self.registry,
        )
        self.plugin_failures = Counter(
            "almacen_plugin_failures",
            "Plugins skipped at start-up.",
            registry=self.registry,
        )


class RequestContextMiddleware:
    """Outermost middleware: request id, access log and metrics for every HTTP request.

    :param modules: names of mounted modules, to label metrics by module.
    """

    def __init__(self, app: ASGIApp, *, metrics: Metrics, modules: frozenset[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.modules = modules

    def _module(self, path: str) -> str:
        # /v1/<module>/...; anything else is the gateway's (bounded label cardinality).
        parts = path.split("/", 3)
        if len(parts) > 2 and parts[1] == "v1" and parts[2] in self.modules:
            return parts[2]
        return "gateway"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _VALID_ID.match(candidate):
                    request_id = candidate
                break
        if request_id is None:
            request_id = uuid.uuid4().hex
        token = _request_id.set(request_id)
        encoded_id = request_id.encode()
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", encoded_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            module = self._module(scope["path"])
            self.metrics.requests.labels(module, scope["method"], str(status)).inc()
            self.metrics.latency.labels(module).observe(elapsed)
            extensions: dict[str, Any] = scope.get("extensions") or {}
            principal = extensions.get("almacen", {}).get("principal")
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "api_module": module,
                    "tenant": getattr(principal, "tenant_slug", None),
                    "duration_ms": round(elapsed * 1000, 3),
                },
            )
            _request_id.reset(token)
