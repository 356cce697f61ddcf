"""What is installed, what a tenant may call, and its API document."""

from __future__ import annotations

from typing import Any

from ..errors import ForbiddenError
from ..specs import merge_documents
from ..state import current_gateway, current_principal, request_session, visible_modules
from ..tenancy import service


def openapi() -> dict[str, Any]:
    """The merged document of the caller's modules (all installed ones for anonymous callers)."""
    gateway = current_gateway()
    principal = current_principal(required=False)
    include_admin = principal is None or principal.is_admin
    modules = [
        (name, gateway.registry.modules[name].title, gateway.documents[name])
        for name in sorted(visible_modules())
    ]
    return merge_documents(gateway.documents[None], modules, include_admin=include_admin)


def me() -> dict[str, Any]:
    """The calling tenant and the modules it subscribes to."""
    principal = current_principal()
    if principal is None or principal.tenant_id is None:
        raise ForbiddenError("Only a tenant's key has a tenant.")
    tenant = service.get_tenant(request_session(), principal.tenant_id)
    return {
        "id": tenant.id,
        "slug": tenant.slug,
        "name": tenant.name,
        "modules": sorted(principal.modules),
    }


def plugins() -> dict[str, Any]:
    """The plugin registry report."""
    return current_gateway().registry.report()
