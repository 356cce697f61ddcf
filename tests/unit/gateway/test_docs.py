"""The documentation keeps up with the code: hooks, settings and problem types.

Each check is parametrized per hook, setting or slug, so a failure names the culprit.

Hook sections in ``docs/plugin_hooks.md`` are headed by the hook's signature, rendered by
:func:`signature_heading`: ``name(parameters) -> return``, with the parameters and the return
annotation exactly as written in ``gateway/hookspecs.py`` (normalised by :func:`ast.unparse`,
so neither the Python version nor ``from __future__ import annotations`` changes the text).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from almacen.gateway import errors
from almacen.gateway.plugins import registry_from
from almacen.gateway.problems import _SLUGS, problem_response
from almacen.gateway.settings import ENV_PREFIX, Settings
from almacen.openapi import COMPONENTS

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
TESTS = ROOT / "tests"


# -- helpers -------------------------------------------------------------------------------


def sections(path: Path) -> dict[str, str]:
    """The ``## `` sections of a markdown file: heading text → body (up to the next one)."""
    found: dict[str, str] = {}
    heading = None
    lines: list[str] = []
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith("## "):
            if heading is not None:
                found[heading] = "\n".join(lines)
            heading, lines = line[3:].strip(), []
        elif heading is not None:
            lines.append(line)
    if heading is not None:
        found[heading] = "\n".join(lines)
    return found


def hookspecs() -> dict[str, Callable[..., Any]]:
    """Every hook specification: the gateway's, and those the installed modules add."""
    registry = registry_from(load_entrypoints=True)
    return {
        name: caller.spec.function
        for name, caller in vars(registry.hook).items()
        if caller.spec is not None
    }


def signature_heading(function: Callable[..., Any]) -> str:
    """``name(parameters) -> return`` as written in the function's source."""
    source = textwrap.dedent(inspect.getsource(function))
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"{node.name}({ast.unparse(node.args)}){returns}"


def defined_test_names() -> set[str]:
    """Every test function (and method) name defined in a ``test_*.py`` under tests/."""
    names = set()
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and node.name.startswith("test_"):
                names.add(node.name)
    return names


def problem_slugs() -> dict[str, set[int]]:
    """Every problem slug the gateway can emit, with the statuses it is used for."""
    slugs: dict[str, set[int]] = {}
    classes = [errors.AlmacenError]
    while classes:
        cls = classes.pop()
        slugs.setdefault(cls.slug, set()).add(cls.status)
        classes.extend(cls.__subclasses__())
    for status, (slug, _title) in _SLUGS.items():
        slugs.setdefault(slug, set()).add(status)
    # The fallback for a status with no type of its own.
    fallback = problem_response(599).body
    assert isinstance(fallback, str)
    slugs.setdefault(_slug_of(fallback), set())
    return slugs


def _slug_of(body: str) -> str:
    match = re.search(r'"type": "[^"]*/problems/([a-z-]+)"', body)
    assert match is not None, body
    return match.group(1)


def env_form(value: Any) -> str:
    """How configuration.md writes a default: as the environment variable's text."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return f"`{','.join(value)}`" if value else "empty"
    return f"`{value}`"


HOOKS = hookspecs()
FIELDS = {field.name: field for field in dataclasses.fields(Settings)}
SLUGS = problem_slugs()


# -- hooks ---------------------------------------------------------------------------------


def test_the_gateway_has_hooks() -> None:
    # Guards the parametrizations below against silently testing nothing.
    assert "almacen_register_module" in HOOKS
    assert len(HOOKS) >= 5


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hookspec_has_docstring_with_return(name: str) -> None:
    doc = inspect.getdoc(HOOKS[name])
    assert doc, f"hook {name} has no docstring"
    assert ":return:" in doc, f"hook {name}'s docstring does not say what to return"


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hookspec_documents_each_parameter(name: str) -> None:
    doc = inspect.getdoc(HOOKS[name]) or ""
    for parameter in inspect.signature(HOOKS[name]).parameters:
        assert f":param {parameter}:" in doc, f"hook {name} does not document {parameter!r}"


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hook_is_documented_under_its_signature(name: str) -> None:
    heading = signature_heading(HOOKS[name])
    documented = sections(DOCS / "plugin_hooks.md")
    assert heading in documented, (
        f"docs/plugin_hooks.md has no section headed '## {heading}'; "
        f"hook headings there: {sorted(h for h in documented if h.startswith('almacen_'))}"
    )


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hook_section_has_an_example(name: str) -> None:
    body = sections(DOCS / "plugin_hooks.md").get(signature_heading(HOOKS[name]), "")
    assert re.search(rf"```python\n(?:.*\n)*?@hookimpl\ndef {name}\(", body), (
        f"the section of {name} has no example implementation"
    )


def test_no_section_documents_a_hook_that_does_not_exist() -> None:
    headings = {h for h in sections(DOCS / "plugin_hooks.md") if h.startswith("almacen_")}
    assert headings <= {signature_heading(spec) for spec in HOOKS.values()}


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_hook_has_a_test(name: str) -> None:
    assert f"test_hook_{name}" in defined_test_names(), f"no test_hook_{name} test under tests/"


def test_signature_heading_keeps_annotations_as_written() -> None:
    def almacen_example(app: connexion.FlaskApp, *, n: int = 1) -> list[str] | None:  # noqa: F821
        """Not a hook."""

    assert (
        signature_heading(almacen_example)
        == "almacen_example(app: connexion.FlaskApp, *, n: int=1) -> list[str] | None"
    )


# -- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_setting_is_documented(name: str) -> None:
    variable = ENV_PREFIX + name.upper()
    documented = sections(DOCS / "configuration.md")
    assert variable in documented, f"docs/configuration.md has no '## {variable}' section"
    body = documented[variable]
    assert f"**Field:** `{name}`" in body
    default = env_form(FIELDS[name].default)
    assert f"**Default:** {default}" in body, f"{variable}: the default in the code is {default}"


# -- problem types -------------------------------------------------------------------------


@pytest.mark.parametrize("slug", sorted(SLUGS))
def test_problem_type_is_documented(slug: str) -> None:
    documented = sections(DOCS / "problems.md")
    assert slug in documented, f"docs/problems.md has no '## {slug}' section"
    status_line = next(
        (line for line in documented[slug].splitlines() if line.startswith("**Status:**")), ""
    )
    for status in sorted(SLUGS[slug]):
        assert str(status) in status_line, f"{slug} is used for {status}; the docs say otherwise"


def test_problem_types_include_every_error_class() -> None:
    assert {"validation-error", "module-not-subscribed", "rate-limited", "error"} <= set(SLUGS)


# -- the plugin guide ----------------------------------------------------------------------


def _shared_components() -> list[tuple[str, str]]:
    import yaml

    document = yaml.safe_load(COMPONENTS.read_text(encoding="utf-8"))
    return [(kind, name) for kind, names in document["components"].items() for name in names]


@pytest.mark.parametrize(("kind", "name"), _shared_components())
def test_shared_component_is_listed_in_the_guide(kind: str, name: str) -> None:
    guide = (DOCS / "plugins.md").read_text(encoding="utf-8")
    row = next((line for line in guide.splitlines() if line.startswith(f"| `{kind}` |")), "")
    assert f"`{name}`" in row, f"docs/plugins.md does not list the shared {kind} {name}"
