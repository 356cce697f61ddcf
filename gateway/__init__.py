"""The Almacén gateway: the application, its plugin registry, tenancy and HTTP contract."""

from __future__ import annotations

from .actions import ActionInputError as ActionInputError
from .actions import ActionUnavailableError as ActionUnavailableError
from .actions import run_action as run_action
from .app import create_app as create_app
from .db import Base as Base
from .db import TenantScoped as TenantScoped
from .errors import AlmacenError as AlmacenError
from .events import Event as Event
from .events import emit as emit
from .markers import hookimpl as hookimpl
from .markers import hookspec as hookspec
from .module import Action as Action
from .module import EventType as EventType
from .module import Module as Module
from .settings import Settings as Settings

__all__ = [
    "Action",
    "ActionInputError",
    "ActionUnavailableError",
    "AlmacenError",
    "Base",
    "Event",
    "EventType",
    "Module",
    "Settings",
    "TenantScoped",
    "create_app",
    "emit",
    "hookimpl",
    "hookspec",
    "run_action",
]
