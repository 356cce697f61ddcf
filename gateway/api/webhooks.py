"""Tenant: webhook endpoints, their secrets and delivery logs (``/v1/webhooks``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..state import current_gateway, request_session
from ..webhooks import service
from ..webhooks.models import WebhookDelivery
from ..webhooks.schemas import AttemptSchema, DeliverySchema, EndpointSchema
from ..webhooks.targets import Network, parse_networks

_endpoint = EndpointSchema()
_delivery = DeliverySchema()
_attempt = AttemptSchema()


def _catalogue() -> service.Catalogue:
    registry = current_gateway().registry
    return service.Catalogue(event_types=registry.event_types, modules=registry.modules)


def _allowed() -> tuple[Network, ...]:
    return parse_networks(current_gateway().settings.webhook_allowed_networks)


def _deliveries(deliveries: list[WebhookDelivery]) -> list[dict[str, Any]]:
    logs = service.list_attempts(request_session(), [d.id for d in deliveries])
    dumped = []
    for found in deliveries:
        item = dict(_delivery.dump(found))
        if found.status != "pending":
            item["next_attempt_at"] = None  # only a pending delivery has a next attempt
        item["log"] = _attempt.dump(logs[found.id], many=True)
        dumped.append(item)
    return dumped


def create(body: dict[str, Any]) -> tuple[Any, int]:
    """Register an endpoint; its secret is in this response and nowhere else."""
    endpoint = service.create_endpoint(
        request_session(),
        url=body["url"],
        filters=body.get("filters", ["*"]),
        description=body.get("description", ""),
        enabled=body.get("enabled", True),
        catalogue=_catalogue(),
        allowed=_allowed(),
    )
    return {**_endpoint.dump(endpoint), "secret": endpoint.secret}, 201


def search(limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """A page of the tenant's endpoints."""
    page = service.list_endpoints(request_session(), limit=limit, cursor=cursor)
    return {"items": _endpoint.dump(page.items, many=True), "next": page.next_cursor}


def get(webhook_id: str) -> Any:
    """One endpoint."""
    return _endpoint.dump(service.get_endpoint(request_session(), webhook_id))


def update(webhook_id: str, body: dict[str, Any]) -> Any:
    """Change an endpoint."""
    endpoint = service.update_endpoint(
        request_session(), webhook_id, body, catalogue=_catalogue(), allowed=_allowed()
    )
    return _endpoint.dump(endpoint)


def delete(webhook_id: str) -> tuple[None, int]:
    """Remove an endpoint and its log."""
    service.delete_endpoint(request_session(), webhook_id)
    return None, 204


def rotate_secret(webhook_id: str, body: dict[str, Any] | None = None) -> Any:
    """A new secret, shown once; the old one signs beside it for ``grace_seconds``."""
    grace = dt.timedelta(seconds=(body or {}).get("grace_seconds", 86400))
    endpoint, secret = service.rotate_secret(request_session(), webhook_id, grace=grace)
    return {**_endpoint.dump(endpoint), "secret": secret}


def deliveries(
    webhook_id: str, limit: int = 50, cursor: str | None = None, status: str | None = None
) -> dict[str, Any]:
    """A page of an endpoint's deliveries, each with its attempts."""
    page = service.list_deliveries(
        request_session(), webhook_id, limit=limit, cursor=cursor, status=status
    )
    return {"items": _deliveries(list(page.items)), "next": page.next_cursor}


def delivery(webhook_id: str, delivery_id: str) -> Any:
    """One delivery with its attempts."""
    return _deliveries([service.get_delivery(request_session(), webhook_id, delivery_id)])[0]


def redeliver(webhook_id: str, delivery_id: str) -> tuple[Any, int]:
    """Make a delivery due now; a worker sends it on its next cycle."""
    found = service.redeliver(request_session(), webhook_id, delivery_id)
    return _deliveries([found])[0], 202
