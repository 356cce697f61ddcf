"""The session's tenant's notifications configuration, defaults filled in."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from almacen.gateway.tenancy.service import module_config

from .config import NotificationsConfigSchema

__all__ = ["MODULE", "settings_for"]

MODULE = "notifications"


def settings_for(session: Session) -> dict[str, Any]:
    """The notifications configuration of the session's tenant, defaults filled in."""
    return module_config(session, MODULE, NotificationsConfigSchema)
