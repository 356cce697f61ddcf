"""The plugin registry: one pluggy manager per app, plugins loaded one by one.

A plugin that fails to import, implements a hook that does not exist, or raises inside a
start-up hook is recorded as a :class:`PluginFailure`, logged, unregistered and skipped; the
gateway serves the rest. Modules, actions and event types are collected here and checked.
"""

from __future__ import annotations

import dataclasses
import logging
import traceback
from collections.abc import Iterable, Sequence
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any, cast

import pluggy

from . import hookspecs
from .markers import PROJECT_NAME
from .module import Action, EventType, Module, ModuleDefinitionError

__all__ = ["ENTRY_POINT_GROUP", "PluginFailure", "PluginInfo", "PluginRegistry"]

ENTRY_POINT_GROUP = "almacen.plugins"
HOOK_PREFIX = "almacen_"

logger = logging.getLogger("almacen.plugins")


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    """A registered plugin: its name, the distribution that ships it and its hooks."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class PluginFailure:
    """A plugin that was skipped: at which stage, and why."""

    name: str
    distribution: str | None
    stage: str
    error: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the API and the CLI."""
        return dataclasses.asdict(self)


class _Manager(pluggy.PluginManager):
    """Takes only ``almacen_*`` functions as hook implementations, marked or not."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        if not name.startswith(HOOK_PREFIX):
            return None
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and callable(getattr(plugin, name, None)):
            return {}
        return opts


class PluginRegistry:
    """Loads plugins and collects what they register.

    :param blocked: entry-point names never to load.
    :param trace: log every hook call with its arguments and results.
    """

    def __init__(self, *, blocked: Iterable[str] = (), trace: bool = False) -> None:
        self.manager = _Manager(PROJECT_NAME)
        self.manager.add_hookspecs(hookspecs)
        self.blocked = frozenset(blocked)
        self.failures: list[PluginFailure] = []
        self._dists: dict[str, tuple[str | None, str | None]] = {}
        self.modules: dict[str, Module] = {}
        self.actions: dict[str, Action] = {}
        self.event_types: dict[str, EventType] = {}
        self._owners: dict[str, str] = {}
        self._trace = trace
        self._hookspecs_added = False
        if trace:
            self.manager.trace.root.setwriter(lambda text: logger.info("hook trace %s", text))
            self.manager.enable_tracing()

    @property
    def hook(self) -> pluggy.HookRelay:
        """The hook relay; call hooks with keyword arguments only."""
        return self.manager.hook

    def add_hookspecs(self, module_or_class: ModuleType | type) -> None:
        """Add a plugin's own hook specifications (call from ``almacen_addhooks``)."""
        self.manager.add_hookspecs(module_or_class)

    # -- loading ---------------------------------------------------------------------------

    def register(
        self,
        plugin: Any,
        name: str,
        *,
        distribution: str | None = None,
        version: str | None = None,
    ) -> bool:
        """Register one plugin object; return False (and record why) when it is rejected."""
        try:
            self.manager.register(plugin, name=name)
        except Exception as exc:
            # The name may be taken by a plugin registered before: record, never unregister.
            self._record(name, "register", exc, distribution=distribution)
            return False
        self._dists[name] = (distribution, version)
        if self._hookspecs_added:
            # almacen_addhooks is historic: a plugin registered after start-up still gets it.
            self.call_each("almacen_addhooks", only=name, registry=self)
        return True

    def load_entrypoints(self, group: str = ENTRY_POINT_GROUP) -> None:
        """Import and register every plugin of the entry-point group, one at a time."""
        for entry_point in sorted(entry_points(group=group), key=lambda ep: ep.name):
            self._load(entry_point)

    def _load(self, entry_point: EntryPoint) -> None:
        dist = entry_point.dist.name if entry_point.dist else None
        version = entry_point.dist.version if entry_point.dist else None
        if entry_point.name in self.blocked:
            logger.info("plugin %s blocked by configuration", entry_point.name)
            return
        if self.manager.get_plugin(entry_point.name) is not None:
            return
        try:
            plugin = entry_point.load()
        except Exception as exc:
            self._fail(entry_point.name, "import", exc, distribution=dist)
            return
        self.register(plugin, entry_point.name, distribution=dist, version=version)

    def check(self) -> None:
        """Reject plugins implementing hooks that no specification declares."""
        for name, plugin in list(self.manager.list_name_plugin()):
            if plugin is None:
                continue
            for caller in self.manager.get_hookcallers(plugin) or []:
                if caller.spec is None:
                    self._fail(
                        name,
                        "validate",
                        ValueError(f"implements unknown hook {caller.name!r}"),
                    )
                    break

    # -- collecting ------------------------------------------------------------------------

    def add_plugin_hookspecs(self) -> None:
        """Call ``almacen_addhooks`` now, and on every plugin registered from now on."""
        self.call_each("almacen_addhooks", registry=self)
        self._hookspecs_added = True

    def call_each(
        self, hook_name: str, *, only: str | None = None, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """Call every implementation of a hook on its own, in pluggy's order.

        An implementation that raises gets its plugin recorded as failed and unregistered;
        the others still run. Returns ``(plugin name, result)`` for the ones that answered.
        """
        caller = getattr(self.manager.hook, hook_name)
        results: list[tuple[str, Any]] = []
        # pluggy calls the last implementation first; keep that order.
        for impl in reversed(caller.get_hookimpls()):
            if self.manager.get_plugin(impl.plugin_name) is None:
                continue
            if only is not None and impl.plugin_name != only:
                continue
            args = {arg: kwargs[arg] for arg in impl.argnames}
            if self._trace:
                logger.info("hook trace %s(%s) in %s", hook_name, args, impl.plugin_name)
            try:
                result = impl.function(**args)
            except Exception as exc:
                self._fail(impl.plugin_name, hook_name, exc)
                continue
            if self._trace:
                logger.info(
                    "hook trace finish %s in %s --> %r", hook_name, impl.plugin_name, result
                )
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    def collect(self) -> None:
        """Collect modules, then actions and event types, checking names and ownership."""
        for plugin, module in self.call_each("almacen_register_module"):
            self._add(plugin, module, Module, self.modules, "almacen_register_module")
        self._collect_many("almacen_register_actions", Action, self.actions)
        self._collect_many("almacen_register_events", EventType, self.event_types)
        # A plugin skipped while registering its actions or events takes its module along:
        # serving it without them would be serving half a module.
        for name in list(self.modules):
            if self.manager.get_plugin(self._owners[name]) is None:
                self._unmount(name)

    def _collect_many(
        self, hook_name: str, kind: type[Action] | type[EventType], into: dict[str, Any]
    ) -> None:
        for plugin, items in self.call_each(hook_name):
            staged: dict[str, Any] = {}
            try:
                for item in items:
                    item = cast("Action | EventType", item)
                    if not isinstance(item, kind):
                        raise ModuleDefinitionError(f"expected {kind.__name__}, got {item!r}")
                    if item.module not in self.modules:
                        raise ModuleDefinitionError(
                            f"{item.name!r} belongs to module {item.module!r}, which is not "
                            "installed"
                        )
                    if item.name in into or item.name in staged:
                        raise ModuleDefinitionError(f"{item.name!r} is registered twice")
                    staged[item.name] = item
            except Exception as exc:
                self._fail(plugin, hook_name, exc)
                continue
            into.update(staged)

    def _add(
        self, plugin: str, item: Any, kind: type[Module], into: dict[str, Module], stage: str
    ) -> None:
        if not isinstance(item, kind):
            self._fail(plugin, stage, ModuleDefinitionError(f"expected a {kind.__name__}"))
        elif item.name in into:
            owner = self._owners[item.name]
            self._fail(
                plugin, stage, ModuleDefinitionError(f"module {item.name!r} is already {owner}'s")
            )
        else:
            into[item.name] = item
            self._owners[item.name] = plugin

    def drop_module(self, name: str, stage: str, exc: BaseException) -> None:
        """Unmount a module found broken after collection (bad spec, missing handler)."""
        self._unmount(name)
        self._fail(self._owners.get(name, name), stage, exc)

    def _unmount(self, name: str) -> None:
        self.modules.pop(name, None)
        for catalogue in (self.actions, self.event_types):
            for key in [k for k, v in catalogue.items() if v.module == name]:
                del catalogue[key]

    def owner(self, module: str) -> str | None:
        """The name of the plugin that registered a module."""
        return self._owners.get(module)

    def safe_call(self, hook_name: str, **kwargs: Any) -> None:
        """Run a hook for its side effects, isolating plugins that raise."""
        self.call_each(hook_name, **kwargs)

    def _fail(
        self, name: str, stage: str, exc: BaseException, *, distribution: str | None = None
    ) -> None:
        self._record(name, stage, exc, distribution=distribution)
        plugin = self.manager.get_plugin(name)
        if plugin is not None:
            self.manager.unregister(plugin)

    def _record(
        self, name: str, stage: str, exc: BaseException, *, distribution: str | None = None
    ) -> None:
        dist = distribution or self._dists.get(name, (None, None))[0]
        # One line, bounded: a spec validation error would otherwise dump whole schemas here.
        message = " ".join("".join(traceback.format_exception_only(exc)).split())
        if len(message) > 500:
            message = message[:497] + "..."
        self.failures.append(
            PluginFailure(name=name, distribution=dist, stage=stage, error=message)
        )
        logger.error(
            "plugin %s skipped at %s: %s",
            name,
            stage,
            message,
            extra={"plugin": name, "distribution": dist},
        )

    # -- reporting -------------------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        """The plugins that are registered now, sorted by name."""
        infos = []
        for name, plugin in self.manager.list_name_plugin():
            if plugin is None:
                continue
            hooks = sorted(c.name for c in self.manager.get_hookcallers(plugin) or [])
            dist, version = self._dists.get(name, (None, None))
            infos.append(PluginInfo(name, dist, version, tuple(hooks)))
        return sorted(infos, key=lambda info: info.name)

    def report(self) -> dict[str, Any]:
        """Plugins, modules, actions, events and failures: what ``/v1/plugins`` shows."""
        return {
            "plugins": [dataclasses.asdict(p) | {"hooks": list(p.hooks)} for p in self.plugins()],
            "modules": [
                {
                    "name": m.name,
                    "version": m.version,
                    "title": m.title,
                    "plugin": self._owners.get(m.name),
                    "actions": sorted(a for a, v in self.actions.items() if v.module == m.name),
                    "events": sorted(e for e, v in self.event_types.items() if v.module == m.name),
                }
                for m in sorted(self.modules.values(), key=lambda m: m.name)
            ],
            "failures": [f.as_dict() for f in self.failures],
        }


def registry_from(
    *,
    essential: Sequence[tuple[str, Any]] = (),
    extra: Sequence[tuple[str, Any]] = (),
    load_entrypoints: bool = True,
    blocked: Iterable[str] = (),
    trace: bool = False,
) -> PluginRegistry:
    """Build a registry: essential plugins, entry-point plugins, then extra ones (tests)."""
    registry = PluginRegistry(blocked=blocked, trace=trace)
    for name, plugin in essential:
        registry.register(plugin, name, distribution=PROJECT_NAME)
    if load_entrypoints:
        registry.load_entrypoints()
    for name, plugin in extra:
        registry.register(plugin, name)
    # Plugins may add hook specs that other plugins implement: add them before checking.
    registry.add_plugin_hookspecs()
    registry.check()
    registry.collect()
    return registry
