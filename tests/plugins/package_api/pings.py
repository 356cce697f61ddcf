"""``operationId: pings.ping`` of ``specs/package_api.yaml``."""

from __future__ import annotations

from typing import Any


def ping() -> dict[str, Any]:
    """GET /v1/<module>/ping."""
    return {"pong": True}
