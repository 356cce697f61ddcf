"""A tiny Almacén plugin for the benchmark: one module, ``tiny``, with one GET operation."""

from __future__ import annotations

from pathlib import Path

import almacen

__all__ = ["SPEC", "almacen_register_module"]

SPEC = Path(__file__).with_name("openapi.yaml")


@almacen.hookimpl
def almacen_register_module() -> almacen.Module:
    """The ``tiny`` module, mounted at ``/v1/tiny``."""
    return almacen.Module(name="tiny", version="1", title="Tiny", spec=SPEC, api="tinymodule.api")
