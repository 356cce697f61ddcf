"""Hook specifications a plugin adds through ``almacen_addhooks`` (as a module would)."""

from __future__ import annotations

from almacen import hookspec


@hookspec
def almacen_greeting(name: str) -> str | None:
    """Greet someone.

    :param name: who to greet.
    :return: a greeting; all non-None results are collected.
    """
