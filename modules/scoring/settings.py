"""The session's tenant's scoring configuration, defaults filled in."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from almacen.gateway.tenancy.service import module_config

from .config import ScoringConfigSchema

__all__ = ["MODULE", "settings_for"]

MODULE = "scoring"


def settings_for(session: Session) -> dict[str, Any]:
    """The scoring configuration of the session's tenant, defaults filled in."""
    return module_config(session, MODULE, ScoringConfigSchema)
