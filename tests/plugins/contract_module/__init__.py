"""A tiny API module for contract tests: records calls, can block, and can fail on purpose.

Register it with ``make_app(plugins=[contract_plugin()])``; the handlers find the plugin object
(and so the state of one test) through the app's registry, never through globals.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from marshmallow import Schema, fields

from almacen import Module, hookimpl

MODULE_NAME = "contract"
PLUGIN_NAME = "contract_module"
#: Text of the exceptions the handlers raise; it must never reach a client.
SECRET = "contract-module-exploded-with-secret-detail"


class ContractConfig(Schema):
    """A tenant's configuration of the module."""

    greeting = fields.String()
    limit = fields.Integer()


class ContractPlugin:
    """The plugin object: one per app, holding what its handlers saw and will do.

    :ivar gate: when set, ``POST /things`` waits on it (bounded) before answering.
    :ivar entered: set by ``POST /things`` once it is running (and waiting on ``gate``).
    :ivar failures: how many of the next ``POST /things`` raise instead of answering.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str | None, dict[str, Any]]] = []
        self.things: dict[str | None, list[dict[str, Any]]] = {}
        self.gate: threading.Event | None = None
        self.entered = threading.Event()
        self.failures = 0

    def reset(self) -> None:
        """Forget what earlier tests did and asked for (the app is shared by a worker)."""
        with self.lock:
            self.calls.clear()
            self.things.clear()
            self.gate = None
            self.entered.clear()
            self.failures = 0

    def calls_of(self, tenant_id: str) -> list[dict[str, Any]]:
        """The bodies ``POST /things`` received from one tenant."""
        with self.lock:
            return [body for owner, body in self.calls if owner == tenant_id]

    @hookimpl
    def almacen_register_module(self) -> Module:
        return Module(
            name=MODULE_NAME,
            version="1.0",
            title="Contract test module",
            spec=Path(__file__).with_name("openapi.yaml"),
            api=f"{__name__}.api",
            config_schema=ContractConfig,
        )


def contract_plugin() -> tuple[str, ContractPlugin]:
    """A fresh ``(name, plugin)`` pair for ``make_app(plugins=[...])``."""
    return PLUGIN_NAME, ContractPlugin()
