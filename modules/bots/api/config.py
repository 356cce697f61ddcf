"""The tenant's effective bots configuration."""

from __future__ import annotations

from typing import Any

from almacen.gateway.state import request_session

from ..config import BotsConfigSchema
from ..settings import settings_for


def get() -> dict[str, Any]:
    """The configuration in force: what the tenant set, and the defaults for the rest."""
    return dict(BotsConfigSchema().dump(settings_for(request_session())))
