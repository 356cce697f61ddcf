"""Handlers of ``openapi.yaml``'s operationIds, and the schema of the ``good.echo`` action."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields


class EchoSchema(Schema):
    """What ``good.echo`` takes and gives back."""

    text = fields.String(required=True)


def ping() -> dict[str, Any]:
    """GET /v1/good/ping."""
    return {"pong": True}


def echo(_session: Any, _tenant_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """The ``good.echo`` action."""
    return data
