"""A throwaway plugin object that registers whatever a test hands it.

``Registers(module=..., actions=[...], events=[...])`` implements the three ``register``
hooks; tests build one per case instead of writing a file per combination.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from almacen import Action, EventType, Module, hookimpl


class Registers:
    """Registers one module (or none), some actions and some event types."""

    def __init__(
        self,
        *,
        module: Module | None = None,
        actions: Sequence[Action] = (),
        events: Sequence[EventType] = (),
    ) -> None:
        self.module = module
        self.actions = list(actions)
        self.events = list(events)

    @hookimpl
    def almacen_register_module(self) -> Module | None:
        return self.module

    @hookimpl
    def almacen_register_actions(self) -> Iterable[Action]:
        return self.actions

    @hookimpl
    def almacen_register_events(self) -> Iterable[EventType]:
        return self.events
