"""A tiny, well-formed module plugin: ``good``, with one operation, one action, one event.

Register it with ``make_app(plugins=[("good", good_module)])``. It wires and holds no logic,
as a module's ``__init__.py`` should.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from almacen import Action, EventType, Module, hookimpl

from . import api

HERE = Path(__file__).parent

MODULE = Module(
    name="good",
    version="1.2.3",
    title="Good module",
    spec=HERE / "openapi.yaml",
    api=api.__name__,
    description="A fixture module that answers pong.",
)
ECHO = Action(
    name="good.echo",
    input_schema=api.EchoSchema,
    output_schema=api.EchoSchema,
    handler=api.echo,
    description="Return the input unchanged.",
)
ECHOED = EventType(name="good.echoed", schema=api.EchoSchema, description="Something echoed.")


@hookimpl
def almacen_register_module() -> Module:
    return MODULE


@hookimpl
def almacen_register_actions() -> Iterable[Action]:
    return [ECHO]


@hookimpl
def almacen_register_events() -> Iterable[EventType]:
    return [ECHOED]
