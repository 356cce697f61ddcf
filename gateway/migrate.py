"""Alembic, driven from code: one environment, a version location per module.

The gateway's revisions form the ``gateway`` branch; each module (built-in or plugin) ships
its own folder of revisions on a branch named after it, depending on the gateway's first
revision. ``almacen db upgrade`` upgrades every branch to its head.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Numeric
from sqlalchemy.engine import Engine

from .db import ExactDecimal
from .module import Module

__all__ = [
    "CHECKED_BY_TRIGGER",
    "COMPARE_OPTIONS",
    "GATEWAY_BASE_REVISION",
    "alembic_config",
    "compare_type",
    "import_models",
    "include_object",
    "upgrade",
]

#: ``info`` key of a foreign key that a migration replaced, on the backend it names, with a
#: trigger checking the same rule (e.g. ``{"checked_by_trigger_on": "postgresql"}``).
CHECKED_BY_TRIGGER = "checked_by_trigger_on"

#: Module migrations declare ``depends_on = GATEWAY_BASE_REVISION``.
GATEWAY_BASE_REVISION = "gw0001"

_GATEWAY_MODELS = (
    "almacen.gateway.tenancy.models",
    "almacen.gateway.idempotency.models",
    "almacen.gateway.events.models",
    "almacen.gateway.services.models",
    "almacen.gateway.webhooks.models",
)


def compare_type(
    context: Any,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: Any,
    metadata_type: Any,
) -> bool | None:
    """Alembic type comparison that knows :class:`ExactDecimal` is NUMERIC in migrations
    (stored as scaled integers on SQLite, in a column of NUMERIC affinity)."""
    if isinstance(metadata_type, ExactDecimal) and isinstance(inspected_type, Numeric):
        return False
    return None  # Alembic's own comparison


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's autogenerate filter: foreign keys marked :data:`CHECKED_BY_TRIGGER` in the
    models are left out of the comparison (a key on one backend, a trigger on another)."""
    return type_ != "foreign_key_constraint" or name not in _trigger_checked()


def _trigger_checked() -> set[str]:
    from .db import Base

    return {
        str(constraint.name)
        for table in Base.metadata.tables.values()
        for constraint in table.foreign_key_constraints
        if constraint.name
        and any(
            CHECKED_BY_TRIGGER in info
            for info in (constraint.info, *(element.info for element in constraint.elements))
        )
    }


#: What autogenerate and the tests' schema comparisons pass to Alembic.
COMPARE_OPTIONS: dict[str, Any] = {"compare_type": compare_type, "include_object": include_object}


def import_models(modules: Iterable[Module]) -> None:
    """Import every table definition, so that metadata is complete for autogenerate."""
    for name in _GATEWAY_MODELS:
        importlib.import_module(name)
    for module in modules:
        if module.models:
            importlib.import_module(module.models)


def alembic_config(engine: Engine, modules: Iterable[Module]) -> Config:
    """An Alembic config over ``engine`` with the gateway's and the modules' revisions."""
    modules = list(modules)
    migrations = files("almacen.gateway") / "migrations"
    locations = [str(migrations / "versions")]
    locations += [str(m.migrations) for m in modules if m.migrations is not None]
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    config.attributes["modules"] = modules
    return config


def upgrade(engine: Engine, modules: Iterable[Module]) -> None:
    """Upgrade the gateway and every module to their latest revisions."""
    config = alembic_config(engine, modules)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
