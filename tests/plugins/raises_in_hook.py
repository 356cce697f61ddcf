"""A plugin whose ``almacen_register_module`` raises."""

from __future__ import annotations

from almacen import Module, hookimpl


@hookimpl
def almacen_register_module() -> Module | None:
    raise RuntimeError("raises_in_hook: cannot describe my module")
