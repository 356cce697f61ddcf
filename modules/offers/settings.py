"""The session's tenant's offers configuration, defaults filled in."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from almacen.gateway.tenancy.service import module_config

from .config import OffersConfigSchema

__all__ = ["MODULE", "settings_for"]

MODULE = "offers"


def settings_for(session: Session) -> dict[str, Any]:
    """The offers configuration of the session's tenant, defaults filled in."""
    return module_config(session, MODULE, OffersConfigSchema)
