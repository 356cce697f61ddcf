"""Handlers of the contract test module."""

from __future__ import annotations

import uuid
from typing import Any

from almacen.gateway.state import current_gateway, current_principal, request_session
from almacen.gateway.tenancy import service

from . import SECRET, ContractPlugin

#: How long a blocked handler waits for its gate before giving up (tests never need this).
GATE_TIMEOUT = 10.0


def _plugin() -> ContractPlugin:
    registry = current_gateway().registry
    plugin = registry.manager.get_plugin(registry.owner("contract") or "")
    assert isinstance(plugin, ContractPlugin)
    return plugin


def create(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Record a thing for the calling tenant."""
    plugin = _plugin()
    principal = current_principal()
    tenant_id = principal.tenant_id if principal else None
    with plugin.lock:
        plugin.calls.append((tenant_id, body))
    plugin.entered.set()
    gate = plugin.gate
    if gate is not None and not gate.wait(GATE_TIMEOUT):
        raise RuntimeError("the test never opened the gate")
    with plugin.lock:
        if plugin.failures > 0:
            plugin.failures -= 1
            raise RuntimeError(SECRET)
        thing = {"id": uuid.uuid4().hex, "name": body["name"]}
        plugin.things.setdefault(tenant_id, []).append(thing)
    return thing, 201


def search() -> dict[str, Any]:
    """The calling tenant's things."""
    principal = current_principal()
    tenant_id = principal.tenant_id if principal else None
    plugin = _plugin()
    with plugin.lock:
        return {"items": list(plugin.things.get(tenant_id, []))}


def boom() -> Any:
    """Write a row in the request's transaction, then fail: the row must not survive."""
    principal = current_principal()
    assert principal is not None and principal.tenant_id is not None
    session = request_session()
    tenant = service.get_tenant(session, principal.tenant_id)
    service.create_api_key(session, tenant=tenant, name="half-written")
    raise RuntimeError(SECRET)
