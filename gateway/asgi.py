"""The ASGI entry point for servers: ``almacen.gateway.asgi:app`` (settings from ALMACEN_*)."""

from __future__ import annotations

from .app import create_app
from .logs import configure_logging
from .settings import Settings

_settings = Settings.load()
configure_logging(_settings.log_level, as_json=_settings.log_json)
app = create_app()
