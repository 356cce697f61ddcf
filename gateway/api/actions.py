"""The action catalogue: what a tenant's blueprints and bots can call."""

from __future__ import annotations

from typing import Any

from ..events.schemas import action_entry
from ..state import current_gateway, current_principal


def search() -> dict[str, Any]:
    """Actions of the modules the caller subscribes to (every installed one for admins)."""
    gateway = current_gateway()
    principal = current_principal()
    allowed = gateway.installed if principal is None or principal.is_admin else principal.modules
    catalogue = gateway.registry.actions
    return {
        "items": [
            action_entry(catalogue[n]) for n in sorted(catalogue) if catalogue[n].module in allowed
        ]
    }
