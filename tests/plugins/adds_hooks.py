"""A plugin that publishes the hook specs of :mod:`tests.plugins.custom_hookspecs`."""

from __future__ import annotations

from typing import Any

from almacen import hookimpl

from . import custom_hookspecs


@hookimpl
def almacen_addhooks(registry: Any) -> None:
    registry.add_hookspecs(custom_hookspecs)
