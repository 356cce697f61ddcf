"""Almacén: a warehouse of debt-collection building blocks, each one an API.

Plugins import what they need from here: ``hookimpl`` to implement hooks, ``Module``,
``Action`` and ``EventType`` to describe what they add, ``Base``/``TenantScoped`` for
their tables, ``emit`` to announce a change in its transaction and ``run_action`` to use
another module (catching ``ActionUnavailableError`` to do without it).
"""

from __future__ import annotations

from importlib import metadata as _metadata

from almacen.gateway import Action as Action
from almacen.gateway import ActionInputError as ActionInputError
from almacen.gateway import ActionUnavailableError as ActionUnavailableError
from almacen.gateway import AlmacenError as AlmacenError
from almacen.gateway import Base as Base
from almacen.gateway import Event as Event
from almacen.gateway import EventType as EventType
from almacen.gateway import Module as Module
from almacen.gateway import Settings as Settings
from almacen.gateway import TenantScoped as TenantScoped
from almacen.gateway import create_app as create_app
from almacen.gateway import emit as emit
from almacen.gateway import hookimpl as hookimpl
from almacen.gateway import hookspec as hookspec
from almacen.gateway import run_action as run_action

try:
    __version__ = _metadata.version("almacen")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"

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
    "__version__",
    "create_app",
    "emit",
    "hookimpl",
    "hookspec",
    "run_action",
]
