"""A plugin that cannot even be imported: the gateway must record it and carry on."""

from __future__ import annotations

raise RuntimeError("broken_import: this plugin fails at import time")
