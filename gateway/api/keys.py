"""Admin: a tenant's API keys."""

from __future__ import annotations

from typing import Any

from ..state import current_gateway, request_session
from ..tenancy import service
from ..tenancy.schemas import ApiKeySchema

_key = ApiKeySchema()


def create(tenant_id: str, body: dict[str, Any] | None = None) -> tuple[Any, int]:
    """Issue a key; its secret is in this response and nowhere else."""
    session = request_session(tenant_id=tenant_id)
    tenant = service.get_tenant(session, tenant_id)
    key, secret = service.create_api_key(session, tenant=tenant, name=(body or {}).get("name", ""))
    return {**_key.dump(key), "secret": secret}, 201


def search(tenant_id: str, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """A page of the tenant's keys."""
    session = request_session(tenant_id=tenant_id)
    service.get_tenant(session, tenant_id)
    page = service.list_api_keys(session, limit=limit, cursor=cursor)
    return {"items": _key.dump(page.items, many=True), "next": page.next_cursor}


def revoke(tenant_id: str, key_id: str) -> Any:
    """Revoke a key; it stops working at once in this worker."""
    session = request_session(tenant_id=tenant_id)
    service.get_tenant(session, tenant_id)
    key = service.revoke_api_key(session, key_id)
    current_gateway().authenticator.clear()
    return _key.dump(key)
