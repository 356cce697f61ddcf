"""The fixture ladder: database → ``make_app``/``app`` → ``client`` → ``admin`` → ``tenant``.

The suite runs on SQLite by default and on PostgreSQL when ``ALMACEN_TEST_DATABASE_URL``
names one; each xdist worker gets a database of its own, migrated once per run. Tests make
their own tenants (unique slugs), so they never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from almacen.gateway import create_app, migrate
from almacen.gateway.app import gateway_of
from tests.common.actors import Admin, TenantHandle
from tests.common.sessions import rolled_back

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database for this worker: a SQLite file, or a PostgreSQL database."""
    base = os.environ.get("ALMACEN_TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'almacen.db'}"
        return
    # Unique per run too: two runs against one server must not drop each other's databases.
    name = f"almacen_test_{os.getpid()}_{_worker()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    """True when the suite runs on PostgreSQL."""
    return database_url.startswith("postgresql")


@pytest.fixture(scope="session")
def base_config(database_url: str) -> dict[str, Any]:
    """Settings every test app shares."""
    return {
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        "validate_responses": True,
        "rate_limit": "100000/minute",
        "log_json": True,
        # Tests deliver the outbox explicitly (gateway.dispatcher.drain()): deterministic.
        "delivery": "worker",
    }


@pytest.fixture(scope="session")
def migrated(base_config: dict[str, Any]) -> None:
    """Migrate the worker's database once: the gateway and every installed module."""
    app = create_app(base_config)
    gateway = gateway_of(app)
    migrate.upgrade(gateway.db.engine, gateway.registry.modules.values())
    gateway.close()


@pytest.fixture(scope="session")
def make_app(base_config: dict[str, Any], migrated: None) -> Iterator[Callable[..., Any]]:
    """Build an app on the migrated database with extra settings or plugins."""
    built: list[Any] = []

    def factory(*, plugins: list[tuple[str, Any]] | None = None, **config: Any) -> Any:
        app = create_app({**base_config, **config}, plugins=plugins or [])
        built.append(app)
        return app

    yield factory
    for app in built:
        gateway_of(app).close()


@pytest.fixture(scope="session")
def app(make_app: Callable[..., Any]) -> Any:
    """The app with every installed plugin, shared by the tests of a worker."""
    return make_app()


@pytest.fixture(scope="session")
def client(app: Any) -> Any:
    """An HTTP client for :func:`app` (the real ASGI stack, in process)."""
    return app.test_client()


@pytest.fixture(scope="session")
def admin(client: Any) -> Admin:
    """An operator acting through the admin API."""
    return Admin(client, ADMIN_TOKEN)


@pytest.fixture
def tenant(admin: Admin, request: pytest.FixtureRequest) -> TenantHandle:
    """A new tenant with an API key, subscribed to the modules of ``@pytest.mark.modules``."""
    marker = request.node.get_closest_marker("modules")
    modules = list(marker.args) if marker else []
    return admin.new_tenant(modules=modules)


@pytest.fixture
def other_tenant(admin: Admin, request: pytest.FixtureRequest) -> TenantHandle:
    """A second tenant, subscribed like :func:`tenant`, to prove the wall between them."""
    marker = request.node.get_closest_marker("modules")
    modules = list(marker.args) if marker else []
    return admin.new_tenant(modules=modules)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Make a name no other test uses."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def open_session(app: Any) -> Iterator[Callable[[str | None], Any]]:
    """Open sessions scoped to a tenant (or none) whose writes are rolled back after the test."""
    with rolled_back(app) as world:
        yield world.open_session
