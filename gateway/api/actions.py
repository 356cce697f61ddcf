"""The action catalogue: what a tenant's blueprints and bots can call."""

from __future__ import annotations

from typing import Any

from ..events.schemas import action_entry
from ..state import current_gateway, visible_modules


def search() -> dict[str, Any]:
    """Actions of the modules the caller subscribes to (every installed one for admins)."""
    allowed = visible_modules()
    catalogue = current_gateway().registry.actions
    return {
        "items": [
            action_entry(catalogue[n]) for n in sorted(catalogue) if catalogue[n].module in allowed
        ]
    }
