"""The plugin registry (``gateway/plugins.py``): loading, validating, collecting, isolating.

Registry behaviour is checked on :func:`registry_from` directly; what an operator or a client
sees (a failure in ``GET /v1/plugins``, a module still served or answering 404) is checked
through HTTP on an app built with ``make_app(plugins=...)``. The plugins are small files under
``tests/plugins/``.

Entry points are tested with a real, throwaway distribution: a ``*.dist-info`` folder with an
``entry_points.txt``, put on ``sys.path`` for one test. ``importlib.metadata`` finds it like
any installed package, so the gateway's loading code runs unpatched, distribution name and
version included. That is less hacky than calling the private ``_load`` or monkeypatching
``entry_points`` inside the gateway, both of which would skip the code under test.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from almacen import Action, EventType, Module, hookimpl
from almacen.gateway.app import registry_of
from almacen.gateway.plugins import ENTRY_POINT_GROUP, PluginRegistry, registry_from
from tests.common.actors import Admin, assert_problem
from tests.plugins import (
    adds_hooks,
    good_module,
    greets,
    prepares_app,
    raises_in_hook,
    registers,
)
from tests.plugins.good_module import api as good_api

SPECS = Path(__file__).resolve().parents[2] / "plugins" / "specs"
FIXTURE_DISTRIBUTION = "almacen-fixture-plugins"


# -- fixtures and helpers ------------------------------------------------------------------


def bare_registry(*plugins: tuple[str, Any], trace: bool = False) -> PluginRegistry:
    """A registry of just these plugins (no entry points), fully collected."""
    return registry_from(extra=plugins, load_entrypoints=False, trace=trace)


def failures_of(registry_or_report: PluginRegistry | dict[str, Any], name: str) -> list[Any]:
    """The failures recorded for plugin ``name``, as dicts."""
    if isinstance(registry_or_report, PluginRegistry):
        registry_or_report = registry_or_report.report()
    return [f for f in registry_or_report["failures"] if f["name"] == name]


def plugin_names(registry: PluginRegistry) -> set[str]:
    """Names of the plugins registered now."""
    return {info.name for info in registry.plugins()}


def module(name: str, spec: str = "", *, api: str = good_api.__name__) -> Module:
    """A module named ``name`` served by the good module's handlers (or ``api``)."""
    path = SPECS / f"{spec}.yaml" if spec else good_module.HERE / "openapi.yaml"
    return Module(name=name, version="0.0.1", title=name.title(), spec=path, api=api)


def action(name: str) -> Action:
    """An action named ``name`` with the good module's schema and handler."""
    return Action(
        name=name,
        input_schema=good_api.EchoSchema,
        output_schema=good_api.EchoSchema,
        handler=good_api.echo,
    )


def event(name: str) -> EventType:
    """An event type named ``name``."""
    return EventType(name=name, schema=good_api.EchoSchema)


@pytest.fixture
def make_bare_app(make_app: Callable[..., Any]) -> Callable[..., Any]:
    """Build an app with only the given plugins: no entry point is loaded."""
    return functools.partial(make_app, load_entrypoints=False)


@pytest.fixture
def operator(base_config: dict[str, Any]) -> Callable[[Any], Admin]:
    """An operator of a given app, calling it through its own HTTP client."""
    return lambda app: Admin(app.test_client(), base_config["admin_token"])


@pytest.fixture
def install_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_app: Callable[..., Any]
) -> Callable[..., None]:
    """Install a throwaway distribution whose ``almacen.plugins`` entry points are given.

    Depends on ``make_app`` so that the session's migrated database and shared app are built
    before the distribution appears on ``sys.path``; it disappears after the test.
    """

    def install(**entries: str) -> None:
        dist_info = tmp_path / "almacen_fixture_plugins-1.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {FIXTURE_DISTRIBUTION}\nVersion: 1.0\n",
            encoding="utf-8",
        )
        lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{k} = {v}" for k, v in entries.items()]
        (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        monkeypatch.syspath_prepend(str(tmp_path))

    return install


def report(app: Any, operator: Callable[[Any], Admin]) -> dict[str, Any]:
    """``GET /v1/plugins`` as an operator."""
    response = operator(app).request("GET", "/v1/plugins")
    assert response.status_code == 200, response.text
    return dict(response.json())


def served_paths(app: Any) -> set[str]:
    """The paths of the merged API document an anonymous caller gets."""
    response = app.test_client().get("/v1/openapi.json")
    assert response.status_code == 200, response.text
    return set(response.json()["paths"])


def assert_gateway_serves(app: Any) -> None:
    """The app is up: liveness answers."""
    response = app.test_client().get("/v1/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# -- the hooks -----------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["spec first", "implementation first"])
def test_hook_almacen_addhooks(order: str) -> None:
    plugins = [("adds_hooks", adds_hooks), ("greets", greets)]
    if order == "implementation first":
        plugins.reverse()

    registry = bare_registry(*plugins)

    assert registry.failures == []
    assert plugin_names(registry) == {"adds_hooks", "greets"}
    assert registry.hook.almacen_greeting(name="ana") == ["hola, ana"]


def test_addhooks_missing_makes_the_implementer_unknown() -> None:
    registry = bare_registry(("greets", greets))

    [failure] = failures_of(registry, "greets")
    assert failure["stage"] == "validate"
    assert "unknown hook 'almacen_greeting'" in failure["error"]
    assert "greets" not in plugin_names(registry)


def test_addhooks_raising_is_a_failure_of_its_plugin() -> None:
    class Raises:
        @hookimpl
        def almacen_addhooks(self, registry: Any) -> None:
            raise RuntimeError("no specs today")

    registry = bare_registry(("raises", Raises()), ("greets", greets))

    [failure] = failures_of(registry, "raises")
    assert failure["stage"] == "almacen_addhooks"
    assert failure["error"] == "RuntimeError: no specs today"
    # Without the specs, the implementer is then rejected too.
    assert [f["stage"] for f in failures_of(registry, "greets")] == ["validate"]
    assert plugin_names(registry) == set()


def test_hook_almacen_register_module(
    make_bare_app: Callable[..., Any], operator: Callable[[Any], Admin]
) -> None:
    app = make_bare_app(plugins=[("good", good_module)])

    body = report(app, operator)
    assert body["failures"] == []
    assert body["modules"] == [
        {
            "name": "good",
            "version": "1.2.3",
            "title": "Good module",
            "plugin": "good",
            "actions": ["good.echo"],
            "events": ["good.echoed"],
        }
    ]
    assert "/good/ping" in served_paths(app)
    tenant = operator(app).new_tenant(modules=["good"], client=app.test_client())
    response = tenant.get("/v1/good/ping")
    assert response.status_code == 200, response.text
    assert response.json() == {"pong": True}


def test_registered_module_needs_a_subscription(
    make_bare_app: Callable[..., Any], operator: Callable[[Any], Admin]
) -> None:
    app = make_bare_app(plugins=[("good", good_module)])
    tenant = operator(app).new_tenant(modules=[], client=app.test_client())

    body = assert_problem(tenant.get("/v1/good/ping"), 403, slug="module-not-subscribed")
    assert body["module"] == "good"


def test_hook_almacen_register_actions() -> None:
    extra = action("good.shout")
    registry = bare_registry(
        ("good", good_module), ("extends_good", registers.Registers(actions=[extra]))
    )

    assert registry.failures == []
    assert registry.actions == {"good.echo": good_module.ECHO, "good.shout": extra}
    [listed] = registry.report()["modules"]
    assert listed["actions"] == ["good.echo", "good.shout"]


@pytest.mark.parametrize(
    ("items", "error"),
    [
        pytest.param(
            [action("good.do_it"), action("ghost.do_it")],
            "'ghost.do_it' belongs to module 'ghost', which is not installed",
            id="module-not-installed",
        ),
        pytest.param(
            [action("good.do_it"), action("good.do_it")],
            "'good.do_it' is registered twice",
            id="twice-in-one-result",
        ),
        pytest.param(
            [action("good.do_it"), event("good.done")], "expected Action", id="not-an-action"
        ),
    ],
)
def test_invalid_actions_reject_the_whole_plugin(items: list[Any], error: str) -> None:
    registry = bare_registry(("good", good_module), ("extends", registers.Registers(actions=items)))

    [failure] = failures_of(registry, "extends")
    assert failure["stage"] == "almacen_register_actions"
    assert error in failure["error"]
    assert "extends" not in plugin_names(registry)
    # Nothing of the rejected result is kept; the first plugin's action is untouched.
    assert registry.actions == {"good.echo": good_module.ECHO}


def test_hook_almacen_register_events() -> None:
    extra = event("good.shouted")
    registry = bare_registry(
        ("good", good_module), ("extends_good", registers.Registers(events=[extra]))
    )

    assert registry.failures == []
    assert registry.event_types == {"good.echoed": good_module.ECHOED, "good.shouted": extra}
    [listed] = registry.report()["modules"]
    assert listed["events"] == ["good.echoed", "good.shouted"]


@pytest.mark.parametrize(
    ("items", "error"),
    [
        pytest.param(
            [event("ghost.haunted")],
            "'ghost.haunted' belongs to module 'ghost', which is not installed",
            id="module-not-installed",
        ),
        pytest.param([action("good.do_it")], "expected EventType", id="not-an-event"),
    ],
)
def test_invalid_events_reject_the_whole_plugin(items: list[Any], error: str) -> None:
    registry = bare_registry(("good", good_module), ("extends", registers.Registers(events=items)))

    [failure] = failures_of(registry, "extends")
    assert failure["stage"] == "almacen_register_events"
    assert error in failure["error"]
    assert registry.event_types == {"good.echoed": good_module.ECHOED}


class CalledLast(registers.Registers):
    """Registers actions and events after every other plugin has."""

    @hookimpl(trylast=True)
    def almacen_register_actions(self) -> Iterable[Action]:
        return self.actions

    @hookimpl(trylast=True)
    def almacen_register_events(self) -> Iterable[EventType]:
        return self.events


@pytest.mark.parametrize("registered", ["first", "last"])
@pytest.mark.parametrize(
    ("taken", "stage"),
    [
        (dict(actions=[action("good.echo")]), "almacen_register_actions"),
        (dict(events=[event("good.echoed")]), "almacen_register_events"),
    ],
    ids=["action", "event"],
)
def test_a_taken_name_rejects_the_plugin_called_second(
    taken: dict[str, Any], stage: str, registered: str
) -> None:
    plugins = [("good", good_module), ("late", CalledLast(**taken))]
    if registered == "first":
        plugins.reverse()

    registry = bare_registry(*plugins)

    [failure] = failures_of(registry, "late")
    assert failure["stage"] == stage
    assert "is registered twice" in failure["error"]
    assert registry.actions == {"good.echo": good_module.ECHO}
    assert registry.event_types == {"good.echoed": good_module.ECHOED}
    assert failures_of(registry, "good") == []


def test_hook_almacen_prepare_app(make_bare_app: Callable[..., Any]) -> None:
    app = make_bare_app(plugins=[("prepares", prepares_app)], rate_limit="4242/minute")
    client = app.test_client()

    response = client.get("/v1/prepared")
    assert response.status_code == 200, response.text
    # The hook was handed the app's own settings.
    assert response.json() == {"rate_limit": "4242/minute"}

    response = client.get("/v1/teapot")
    assert response.status_code == 418, response.text
    assert response.json()["detail"] == "short and stout"


def test_prepare_app_raising_is_reported_and_the_app_served(
    make_bare_app: Callable[..., Any], operator: Callable[[Any], Admin]
) -> None:
    class Raises:
        @hookimpl
        def almacen_prepare_app(self, app: Any) -> None:
            app.add_url_rule("/v1/half-done", "half_done", lambda: {"done": "half"})
            raise RuntimeError("gave up half way")

    app = make_bare_app(plugins=[("good", good_module), ("raises", Raises())])

    [failure] = failures_of(report(app, operator), "raises")
    assert failure["stage"] == "almacen_prepare_app"
    assert failure["error"] == "RuntimeError: gave up half way"
    assert_gateway_serves(app)
    assert "/good/ping" in served_paths(app)
    # What it changed before raising stays, as the hook's documentation says.
    assert app.test_client().get("/v1/half-done").json() == {"done": "half"}


# -- failures are reported and skipped -----------------------------------------------------


def test_plugin_raising_on_import_is_reported_and_skipped(
    install_entry_points: Callable[..., None],
    make_app: Callable[..., Any],
    operator: Callable[[Any], Admin],
) -> None:
    install_entry_points(broken="tests.plugins.broken_import", good="tests.plugins.good_module")

    app = make_app()

    body = report(app, operator)
    [failure] = failures_of(body, "broken")
    assert failure == {
        "name": "broken",
        "distribution": FIXTURE_DISTRIBUTION,
        "stage": "import",
        "error": "RuntimeError: broken_import: this plugin fails at import time",
    }
    [good] = [p for p in body["plugins"] if p["name"] == "good"]
    assert (good["distribution"], good["version"]) == (FIXTURE_DISTRIBUTION, "1.0")
    assert_gateway_serves(app)
    assert "/good/ping" in served_paths(app)


def test_plugin_raising_in_register_module_is_reported_and_skipped(
    make_bare_app: Callable[..., Any], operator: Callable[[Any], Admin]
) -> None:
    app = make_bare_app(plugins=[("raises", raises_in_hook), ("good", good_module)])

    body = report(app, operator)
    assert body["failures"] == [
        {
            "name": "raises",
            "distribution": None,
            "stage": "almacen_register_module",
            "error": "RuntimeError: raises_in_hook: cannot describe my module",
        }
    ]
    assert {p["name"] for p in body["plugins"]} & {"raises", "good"} == {"good"}
    assert_gateway_serves(app)
    assert "/good/ping" in served_paths(app)


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (
            "missing_handler",
            "operationId 'nowhere' has no handler in tests.plugins.good_module.api",
        ),
        ("invalid", "InvalidSpecification: 'responses' is a required property"),
        ("redefines_shared", "module 'bad' redefines shared schemas: Money"),
        ("dangling_ref", "Unresolvable JSON pointer: 'components/schemas/Nowhere'"),
    ],
)
def test_module_that_cannot_be_mounted_is_reported_and_skipped(
    spec: str,
    error: str,
    make_bare_app: Callable[..., Any],
    operator: Callable[[Any], Admin],
) -> None:
    bad = registers.Registers(
        module=module("bad", spec), actions=[action("bad.do_it")], events=[event("bad.done")]
    )
    app = make_bare_app(plugins=[("good", good_module), ("bad", bad)])

    body = report(app, operator)
    [failure] = failures_of(body, "bad")
    assert failure["stage"] == "mount"
    assert error in failure["error"]
    assert "Traceback" not in failure["error"]
    assert [m["name"] for m in body["modules"]] == ["good"]
    assert "bad" not in {p["name"] for p in body["plugins"]}
    registry = registry_of(app)
    assert "bad.do_it" not in registry.actions
    assert "bad.done" not in registry.event_types
    # The rest is served; the broken module's paths are not.
    assert_gateway_serves(app)
    assert "/good/ping" in served_paths(app)
    assert_problem(app.test_client().get("/v1/bad/ping"), 404, slug="not-found")


@pytest.mark.parametrize("winner_registered", ["first", "second"])
def test_duplicate_module_name_rejects_the_plugin_called_second(winner_registered: str) -> None:
    class Wins(registers.Registers):
        @hookimpl(tryfirst=True)
        def almacen_register_module(self) -> Module | None:
            return self.module

    winner = ("winner", Wins(module=module("same")))
    loser = ("loser", registers.Registers(module=module("same"), actions=[action("same.do_it")]))
    plugins = [winner, loser] if winner_registered == "first" else [loser, winner]

    registry = bare_registry(*plugins)

    assert registry.owner("same") == "winner"
    assert registry.modules["same"] is winner[1].module
    [failure] = failures_of(registry, "loser")
    assert failure["stage"] == "almacen_register_module"
    assert "module 'same' is already winner's" in failure["error"]
    # The loser is skipped whole: its actions are not collected either.
    assert registry.actions == {}
    assert plugin_names(registry) == {"winner"}


def test_action_for_a_module_that_is_not_installed_is_rejected() -> None:
    orphan = registers.Registers(actions=[action("ghost.do_it")])

    registry = bare_registry(("orphan", orphan))

    [failure] = failures_of(registry, "orphan")
    assert failure["stage"] == "almacen_register_actions"
    assert "not installed" in failure["error"]
    assert registry.actions == {}


# -- blocking and validation ---------------------------------------------------------------


def test_blocked_plugins_are_not_loaded(
    install_entry_points: Callable[..., None],
    make_app: Callable[..., Any],
    operator: Callable[[Any], Admin],
) -> None:
    install_entry_points(broken="tests.plugins.broken_import", good="tests.plugins.good_module")

    app = make_app(blocked_plugins=("broken", "good"))

    body = report(app, operator)
    # Not imported at all: the plugin that fails at import records no failure.
    assert failures_of(body, "broken") == []
    assert {"broken", "good"}.isdisjoint(p["name"] for p in body["plugins"])
    assert "good" not in {m["name"] for m in body["modules"]}


def test_blocked_plugins_from_the_environment(
    install_entry_points: Callable[..., None],
    make_app: Callable[..., Any],
    operator: Callable[[Any], Admin],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install_entry_points(broken="tests.plugins.broken_import", good="tests.plugins.good_module")
    monkeypatch.setenv("ALMACEN_BLOCKED_PLUGINS", "somethingelse, broken")

    app = make_app()

    body = report(app, operator)
    assert failures_of(body, "broken") == []
    assert "good" in {m["name"] for m in body["modules"]}


def test_blocking_applies_to_entry_points_not_to_plugins_passed_in() -> None:
    registry = registry_from(
        extra=[("good", good_module)], load_entrypoints=False, blocked=["good"]
    )

    assert "good" in registry.modules


def test_plugin_implementing_an_unknown_hook_is_rejected() -> None:
    class Typo:
        @hookimpl
        def almacen_register_modules(self) -> None:
            return None

    registry = bare_registry(("typo", Typo()), ("good", good_module))

    [failure] = failures_of(registry, "typo")
    assert failure["stage"] == "validate"
    assert "unknown hook 'almacen_register_modules'" in failure["error"]
    assert plugin_names(registry) == {"good"}


def test_implementation_with_an_argument_the_hook_lacks_is_rejected() -> None:
    class Greedy:
        @hookimpl
        def almacen_prepare_app(self, app: Any, tenant: Any) -> None:
            return None

    registry = bare_registry(("greedy", Greedy()))

    [failure] = failures_of(registry, "greedy")
    assert failure["stage"] == "register"
    assert "tenant" in failure["error"]
    assert plugin_names(registry) == set()


def test_functions_without_the_almacen_prefix_are_ignored() -> None:
    class Unprefixed:
        @hookimpl
        def register_module(self) -> Module:
            return module("unprefixed")

        def almacen_register_actions(self) -> Iterable[Action]:
            # Unmarked, but prefixed: taken as an implementation all the same.
            return []

        def helper(self) -> None:
            raise AssertionError("never called")

    registry = bare_registry(("unprefixed", Unprefixed()))

    assert registry.failures == []
    assert registry.modules == {}
    [info] = registry.plugins()
    assert info.hooks == ("almacen_register_actions",)


# -- tracing -------------------------------------------------------------------------------


def _trace_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "almacen.plugins" and r.getMessage().startswith("hook trace")
    ]


def test_trace_plugins_logs_hook_calls(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="almacen.plugins")
    registry = bare_registry(("adds_hooks", adds_hooks), ("greets", greets), trace=True)

    assert registry.hook.almacen_greeting(name="ana") == ["hola, ana"]

    lines = _trace_lines(caplog)
    assert any("almacen_greeting" in line and "name: ana" in line for line in lines), lines
    assert any("finish almacen_greeting --> ['hola, ana']" in line for line in lines), lines


def test_no_trace_unless_asked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="almacen.plugins")
    registry = bare_registry(("adds_hooks", adds_hooks), ("greets", greets))

    registry.hook.almacen_greeting(name="ana")

    assert _trace_lines(caplog) == []


def test_trace_plugins_setting_reaches_the_registry(
    make_bare_app: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="almacen.plugins")
    app = make_bare_app(
        plugins=[("adds_hooks", adds_hooks), ("greets", greets)], trace_plugins=True
    )

    registry_of(app).hook.almacen_greeting(name="eva")

    assert any("name: eva" in line for line in _trace_lines(caplog))


def test_trace_plugins_logs_start_up_hooks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="almacen.plugins")

    bare_registry(("good", good_module), trace=True)

    lines = _trace_lines(caplog)
    assert any("almacen_register_module" in line for line in lines), lines
    assert any("almacen_register_actions" in line and "good.echo" in line for line in lines)


# -- known bugs ----------------------------------------------------------------------------


def test_duplicate_plugin_name_keeps_the_plugin_registered_first() -> None:
    first = registers.Registers(module=module("first"))
    second = registers.Registers(module=module("second"))

    registry = bare_registry(("same", first), ("same", second))

    [failure] = failures_of(registry, "same")
    assert failure["stage"] == "register"
    assert plugin_names(registry) == {"same"}
    assert registry.manager.get_plugin("same") is first
    assert set(registry.modules) == {"first"}


def test_plugin_skipped_after_registering_its_module_takes_the_module_along() -> None:
    half = registers.Registers(
        module=module("half"), actions=[action("half.do_it"), action("ghost.do_it")]
    )

    registry = bare_registry(("half", half), ("good", good_module))

    assert [f["stage"] for f in failures_of(registry, "half")] == ["almacen_register_actions"]
    assert "half" not in plugin_names(registry)
    assert set(registry.modules) == {"good"}
    assert [m["name"] for m in registry.report()["modules"]] == ["good"]


def test_operation_ids_may_name_handlers_in_api_submodules(
    make_bare_app: Callable[..., Any],
    operator: Callable[[Any], Admin],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tests.plugins.package_api as package

    # Whatever imported the submodule before, this test starts from a package without it.
    monkeypatch.delitem(sys.modules, f"{package.__name__}.pings", raising=False)
    monkeypatch.delattr(package, "pings", raising=False)
    plugin = registers.Registers(module=module("pkg", "package_api", api=package.__name__))

    app = make_bare_app(plugins=[("pkg", plugin)])

    assert failures_of(report(app, operator), "pkg") == []
    tenant = operator(app).new_tenant(modules=["pkg"], client=app.test_client())
    assert tenant.get("/v1/pkg/ping").json() == {"pong": True}


def test_addhooks_reaches_a_plugin_registered_after_start_up() -> None:
    registry = bare_registry()

    assert registry.register(adds_hooks, "adds_hooks")

    assert registry.failures == []
    caller = getattr(registry.hook, "almacen_greeting", None)
    assert caller is not None and caller.spec is not None
