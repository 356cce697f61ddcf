"""A plugin implementing ``almacen_greeting``, a hook only :mod:`.adds_hooks` declares."""

from __future__ import annotations

from almacen import hookimpl


@hookimpl
def almacen_greeting(name: str) -> str:
    return f"hola, {name}"
