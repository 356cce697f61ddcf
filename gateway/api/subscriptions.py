"""Admin: a tenant's module subscriptions."""

from __future__ import annotations

from typing import Any

from ..errors import NotFoundError
from ..state import current_gateway, request_session
from ..tenancy import service
from ..tenancy.schemas import SubscriptionSchema

_subscription = SubscriptionSchema()


def search(tenant_id: str) -> dict[str, Any]:
    """The tenant's subscriptions."""
    session = request_session(tenant_id=tenant_id)
    service.get_tenant(session, tenant_id)
    items = service.list_subscriptions(session)
    return {"items": _subscription.dump(items, many=True)}


def put(tenant_id: str, module: str, body: dict[str, Any] | None = None) -> Any:
    """Subscribe, or replace the configuration; the module's schema checks it."""
    gateway = current_gateway()
    installed = gateway.registry.modules.get(module)
    if installed is None:
        raise NotFoundError(f"no module {module!r} is installed", module=module)
    session = request_session(tenant_id=tenant_id)
    service.get_tenant(session, tenant_id)
    subscription = service.subscribe(session, module=installed, config=(body or {}).get("config"))
    gateway.authenticator.clear()
    return _subscription.dump(subscription)


def delete(tenant_id: str, module: str) -> tuple[str, int]:
    """Unsubscribe."""
    session = request_session(tenant_id=tenant_id)
    service.get_tenant(session, tenant_id)
    service.unsubscribe(session, module)
    current_gateway().authenticator.clear()
    return "", 204
