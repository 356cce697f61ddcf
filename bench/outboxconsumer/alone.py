"""Leave ``outboxconsumer`` the only event consumer of the app (the dispatcher's own cost).

``almacen_prepare_app`` runs once the registry is built: this unregisters every other
plugin implementing ``almacen_handle_event`` (the gateway's webhooks and services), so a
run with ``ALMACEN_EXTRA_PLUGINS=outboxconsumer,outboxconsumer.alone`` measures the outbox
machinery with one minimal consumer.
"""

from __future__ import annotations

from typing import Any

from almacen import hookimpl


@hookimpl
def almacen_prepare_app(app: Any) -> None:
    registry = app.app.extensions["almacen"].registry
    for impl in registry.manager.hook.almacen_handle_event.get_hookimpls():
        if impl.plugin_name != "outboxconsumer":
            registry.manager.unregister(name=impl.plugin_name)
