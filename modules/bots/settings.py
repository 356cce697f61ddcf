"""The session's tenant's bots configuration, defaults filled in."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from almacen.gateway.tenancy.service import module_config

from .config import BotsConfigSchema

__all__ = ["MODULE", "settings_for"]

MODULE = "bots"


def settings_for(session: Session) -> dict[str, Any]:
    """The bots configuration of the session's tenant, defaults filled in."""
    return module_config(session, MODULE, BotsConfigSchema)
