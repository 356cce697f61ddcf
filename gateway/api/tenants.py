"""Admin: tenants."""

from __future__ import annotations

from typing import Any

from ..state import current_gateway, request_session
from ..tenancy import service
from ..tenancy.schemas import TenantSchema

_tenant = TenantSchema()


def create(body: dict[str, Any]) -> tuple[Any, int]:
    """Create a tenant."""
    tenant = service.create_tenant(
        request_session(), slug=body["slug"], name=body["name"], rate_limit=body.get("rate_limit")
    )
    return _tenant.dump(tenant), 201


def search(limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """A page of tenants."""
    page = service.list_tenants(request_session(), limit=limit, cursor=cursor)
    return {"items": _tenant.dump(page.items, many=True), "next": page.next_cursor}


def get(tenant_id: str) -> Any:
    """One tenant."""
    return _tenant.dump(service.get_tenant(request_session(), tenant_id))


def update(tenant_id: str, body: dict[str, Any]) -> Any:
    """Change a tenant; suspension takes effect for its keys at once in this worker."""
    tenant = service.update_tenant(request_session(), tenant_id, body)
    current_gateway().authenticator.clear()
    return _tenant.dump(tenant)
