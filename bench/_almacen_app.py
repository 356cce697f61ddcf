"""The Almacén gateway with the tiny module, as gunicorn imports it (``_almacen_app:app``).

Settings come from ``ALMACEN_*`` environment variables, exactly as ``almacen.gateway.asgi``
reads them; logging is configured the way production configures it (JSON on stderr, which
the benchmark sends to a file).
"""

from __future__ import annotations

import tinymodule

from almacen.gateway import create_app
from almacen.gateway.logs import configure_logging
from almacen.gateway.settings import Settings

_settings = Settings.load()
configure_logging(_settings.log_level, as_json=_settings.log_json)
app = create_app(plugins=[("tiny", tinymodule)])
