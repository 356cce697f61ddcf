"""Fixtures of the functional tests: an app with the contract test module mounted.

``contract`` gives a test the app that also serves ``tests/plugins/contract_module`` at
``/v1/contract``, an operator on it, and a way to make tenants subscribed to the module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.common.actors import Admin, TenantHandle
from tests.common.receiver import Receiver
from tests.plugins.contract_module import MODULE_NAME, ContractPlugin, contract_plugin


@dataclasses.dataclass
class ContractEnv:
    """An app serving the contract module, its plugin object, a client and an operator."""

    app: Any
    plugin: ContractPlugin
    client: Any
    admin: Admin

    def new_tenant(self, *, subscribed: bool = True, **fields: Any) -> TenantHandle:
        """A tenant with a key, subscribed to the contract module unless told otherwise."""
        return self.admin.new_tenant(modules=[MODULE_NAME] if subscribed else [], **fields)


@pytest.fixture(scope="session")
def contract_app(make_app: Callable[..., Any]) -> tuple[Any, ContractPlugin]:
    """One app per worker with the contract module mounted, and its plugin object."""
    name, plugin = contract_plugin()
    return make_app(plugins=[(name, plugin)]), plugin


@pytest.fixture
def contract(contract_app: tuple[Any, ContractPlugin], admin: Admin) -> Iterator[ContractEnv]:
    """The contract app, its plugin reset before and after the test."""
    app, plugin = contract_app
    plugin.reset()
    client = app.test_client()
    operator = Admin(client, admin.headers["X-API-Key"])
    try:
        yield ContractEnv(app=app, plugin=plugin, client=client, admin=operator)
    finally:
        if plugin.gate is not None:
            plugin.gate.set()  # never leave a handler thread waiting
        plugin.reset()


@pytest.fixture
def all_items() -> Callable[[Admin, str], list[dict[str, Any]]]:
    """Every item of a paginated admin listing, following ``next`` to the end."""

    def collect(operator: Admin, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 500}
        for _ in range(1000):
            response = operator.request("GET", path, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            items += page["items"]
            if page["next"] is None:
                return items
            params["cursor"] = page["next"]
        raise AssertionError(f"the pages of {path} never end")

    return collect


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local webhook receiver, stopped after the test."""
    server = Receiver()
    try:
        yield server
    finally:
        server.close()
