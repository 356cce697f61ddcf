"""The Almacén gateway: the application, its plugin registry, tenancy and HTTP contract."""

from __future__ import annotations

from .app import create_app as create_app
from .db import Base as Base
from .db import TenantScoped as TenantScoped
from .errors import AlmacenError as AlmacenError
from .markers import hookimpl as hookimpl
from .markers import hookspec as hookspec
from .module import Action as Action
from .module import EventType as EventType
from .module import Module as Module
from .settings import Settings as Settings

__all__ = [
    "Action",
    "AlmacenError",
    "Base",
    "EventType",
    "Module",
    "Settings",
    "TenantScoped",
    "create_app",
    "hookimpl",
    "hookspec",
]
