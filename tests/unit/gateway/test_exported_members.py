"""The public surface: the names ``almacen`` and ``almacen.gateway`` export, and no others.

As httpx's ``tests/test_exported_members.py``: changing ``__all__`` means changing this test,
so nothing becomes public (or stops being public) by accident.
"""

from __future__ import annotations
import __future__

import importlib
import types

import pytest

import almacen
import almacen.gateway

PUBLIC = {
    "almacen": [
        "Action",
        "ActionInputError",
        "ActionUnavailableError",
        "AlmacenError",
        "Base",
        "Event",
        "EventType",
        "Module",
        "Settings",
        "TenantScoped",
        "__version__",
        "create_app",
        "emit",
        "hookimpl",
        "hookspec",
        "run_action",
    ],
    "almacen.gateway": [
        "Action",
        "ActionInputError",
        "ActionUnavailableError",
        "AlmacenError",
        "Base",
        "Event",
        "EventType",
        "Module",
        "Settings",
        "TenantScoped",
        "create_app",
        "emit",
        "hookimpl",
        "hookspec",
        "run_action",
    ],
}


def public_attributes(package: types.ModuleType) -> set[str]:
    """Names a user could import from ``package`` that look public.

    Subpackages and submodules are left out (they are reached by their dotted path), and so
    is ``annotations``, the ``from __future__`` switch every module of ours has.
    """
    return {
        name
        for name, value in vars(package).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType | __future__._Feature)
    }


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_all_is_pinned(package: str) -> None:
    assert importlib.import_module(package).__all__ == PUBLIC[package]


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_every_name_in_all_is_importable(package: str) -> None:
    namespace: dict[str, object] = {}
    # A name in __all__ that does not exist makes the star import raise AttributeError.
    exec(f"from {package} import *", namespace)
    module = importlib.import_module(package)
    assert set(namespace) - {"__builtins__"} == set(module.__all__)


def test_the_root_re_exports_the_gateway() -> None:
    for name in PUBLIC["almacen.gateway"]:
        assert getattr(almacen, name) is getattr(almacen.gateway, name), name


def test_version_is_the_distribution_version() -> None:
    from importlib.metadata import version

    assert almacen.__version__ == version("almacen")


def test_gateway_has_no_public_name_outside_all() -> None:
    assert public_attributes(almacen.gateway) == set(almacen.gateway.__all__)


def test_root_has_no_public_name_outside_all() -> None:
    assert public_attributes(almacen) == set(almacen.__all__) - {"__version__"}
