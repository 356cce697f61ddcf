"""What a plugin hands the gateway: a module, its actions and its event types."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from marshmallow import Schema

__all__ = ["Action", "EventType", "Module", "ModuleDefinitionError"]

NAME = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
QUALIFIED_NAME = re.compile(r"^[a-z][a-z0-9_]{1,31}\.[a-z][a-z0-9_]{1,63}$")
#: Path segments under /v1 that belong to the gateway and cannot name a module.
RESERVED = frozenset(
    {
        "admin",
        "tenants",
        "plugins",
        "modules",
        "healthz",
        "readyz",
        "metrics",
        "ui",
        "me",
        "openapi",
        "actions",
        "events",
        "webhooks",
        "services",
        "keys",
        "problems",
    }
)


class ModuleDefinitionError(ValueError):
    """Raised when a plugin registers a module, action or event that cannot be mounted."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Module:
    """An API module: mounted at ``/v1/<name>``, subscribable by tenants.

    :param name: lower-case identifier; the URL segment and the prefix of its actions/events.
    :param version: the module's release, shown in ``/v1/plugins``.
    :param title: a human name for docs and listings.
    :param spec: path of the module's OpenAPI 3 document.
    :param api: dotted name of the Python module whose functions implement the operationIds.
    :param config_schema: marshmallow schema of a tenant's configuration (None: no options).
    :param migrations: folder of the module's Alembic revisions (a branch labelled ``name``).
    :param models: dotted name of the Python module defining its tables.
    """

    name: str
    version: str
    title: str
    spec: Path | Traversable
    api: str
    config_schema: type[Schema] | None = None
    migrations: Path | Traversable | None = None
    models: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise ModuleDefinitionError(
                f"module name {self.name!r} must be 2-32 lower-case letters, digits or _"
            )
        if self.name in RESERVED:
            raise ModuleDefinitionError(f"module name {self.name!r} is reserved by the gateway")
        if not self.spec.is_file():
            raise ModuleDefinitionError(f"module {self.name!r}: no OpenAPI file at {self.spec}")
        if self.migrations is not None and not self.migrations.is_dir():
            raise ModuleDefinitionError(
                f"module {self.name!r}: no migrations folder at {self.migrations}"
            )

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """Load a tenant's configuration through the module's schema (raises on bad input)."""
        if self.config_schema is None:
            if config:
                from marshmallow import ValidationError

                raise ValidationError({"_schema": ["this module takes no configuration"]})
            return {}
        schema = self.config_schema()
        loaded = schema.load(config)
        # Store what the schema dumps, so defaults are explicit and types JSON-safe.
        return dict(schema.dump(loaded))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Action:
    """A named operation other modules, blueprints and bots can call in-process.

    :param name: ``<module>.<verb_object>``, e.g. ``calendar.add_business_days``.
    :param input_schema: marshmallow schema validating the input.
    :param output_schema: marshmallow schema dumping the result.
    :param handler: ``handler(session, tenant_id, data) -> result``.
    """

    name: str
    input_schema: type[Schema]
    output_schema: type[Schema]
    handler: Callable[..., Any]
    description: str = ""

    def __post_init__(self) -> None:
        if not QUALIFIED_NAME.match(self.name):
            raise ModuleDefinitionError(f"action name {self.name!r} must be <module>.<verb_object>")

    @property
    def module(self) -> str:
        """The module that owns the action."""
        return self.name.partition(".")[0]


@dataclasses.dataclass(frozen=True, kw_only=True)
class EventType:
    """A kind of event a module emits, e.g. ``ledger.payment_posted`` version 1."""

    name: str
    schema: type[Schema]
    version: int = 1
    description: str = ""

    def __post_init__(self) -> None:
        if not QUALIFIED_NAME.match(self.name):
            raise ModuleDefinitionError(
                f"event name {self.name!r} must be <module>.<object_past_tense>"
            )

    @property
    def module(self) -> str:
        """The module that emits the event."""
        return self.name.partition(".")[0]
