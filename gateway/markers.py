"""The pluggy markers. Plugins import ``hookimpl`` from ``almacen`` and never import pluggy."""

from __future__ import annotations

import pluggy

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "almacen"

#: Marks a function as the specification of a hook (in a ``hookspecs.py``).
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Marks a plugin function as the implementation of a hook.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
