"""The bots module's command-line commands, added to ``almacen`` through the plugin hook."""

from __future__ import annotations

from collections.abc import Iterable

import click

from almacen import hookimpl

__all__ = ["almacen_register_commands"]


@hookimpl
def almacen_register_commands() -> Iterable[click.Command]:
    """Add ``almacen bots`` (``almacen bots evaluate``)."""
    from .cli import bots

    return [bots]
