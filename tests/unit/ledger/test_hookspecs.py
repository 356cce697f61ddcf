"""The ledger's own hook specifications: documented like the gateway's, and callable."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest

from almacen import hookimpl
from almacen.gateway.plugins import PluginRegistry, registry_from
from almacen.modules.ledger import hookspecs
from almacen.modules.ledger.allocation import (
    Allocation,
    AllocationStrategy,
    Due,
    allocate_in_order,
    resolve_strategy,
)

JAN = dt.date(2026, 1, 31)
SPECS = [
    (name, function)
    for name, function in vars(hookspecs).items()
    if inspect.isfunction(function) and function.__module__ == hookspecs.__name__
]


class Smallest:
    """A strategy that pays the smallest dues first."""

    name = "smallest_first"

    def allocate(self, amount: Decimal, dues: Any, *, waterfall: Any = ()) -> list[Allocation]:
        return allocate_in_order(amount, sorted(dues, key=lambda d: d.outstanding))


class AddsLedgerHooks:
    """Stands in for the ledger plugin: adds the ledger's hook specs at start-up."""

    @hookimpl
    def almacen_addhooks(self, registry: PluginRegistry) -> None:
        registry.add_hookspecs(hookspecs)


class OffersStrategy:
    @hookimpl
    def almacen_ledger_allocation_strategies(self) -> Iterable[AllocationStrategy]:
        return [Smallest()]


class OffersNothing:
    @hookimpl
    def almacen_ledger_allocation_strategies(self) -> None:
        return None


def test_every_spec_is_prefixed_marked_typed_and_documented() -> None:
    assert [name for name, _ in SPECS] == ["almacen_ledger_allocation_strategies"]
    for name, function in SPECS:
        assert name.startswith("almacen_")
        assert hasattr(function, "almacen_spec"), f"{name} lacks the hookspec marker"
        assert "return" in function.__annotations__
        doc = " ".join((inspect.getdoc(function) or "").split())
        lines = (inspect.getdoc(function) or "").splitlines()
        assert lines[0].endswith("."), "one summary line"
        assert lines[1] == "", "a blank line after the summary"
        assert ":return:" in doc
        assert "All non-None results are collected" in doc


def test_hook_almacen_ledger_allocation_strategies() -> None:
    registry = registry_from(
        extra=[
            ("ledger_specs", AddsLedgerHooks()),
            ("offers", OffersStrategy()),
            ("offers_nothing", OffersNothing()),
        ],
        load_entrypoints=False,
    )

    assert registry.failures == []
    results = registry.hook.almacen_ledger_allocation_strategies()
    # None is left out of the collected results; each result is an iterable of strategies.
    assert len(results) == 1
    extra = [strategy for result in results for strategy in result]
    strategy = resolve_strategy("smallest_first", extra=extra)
    # Smallest first: the 5.00 fee, then 7.00 of the 10.00 interest.
    dues = [
        Due("i1", 1, JAN, "interest", Decimal("10.00")),
        Due("i1", 1, JAN, "fees", Decimal("5.00")),
    ]
    assert strategy.allocate(Decimal("12.00"), dues, waterfall=()) == [
        Allocation("i1", "fees", Decimal("5.00")),
        Allocation("i1", "interest", Decimal("7.00")),
    ]


def test_without_the_ledger_specs_an_implementer_is_rejected() -> None:
    registry = registry_from(extra=[("offers", OffersStrategy())], load_entrypoints=False)

    [failure] = [f for f in registry.report()["failures"] if f["name"] == "offers"]
    assert "unknown hook 'almacen_ledger_allocation_strategies'" in failure["error"]


@pytest.mark.parametrize("name", ["waterfall", "component_first"])
def test_a_plugin_cannot_replace_a_built_in_strategy(name: str) -> None:
    class Shadow(Smallest):
        pass

    shadow = Shadow()
    shadow.name = name
    with pytest.raises(ValueError, match="built-in"):
        resolve_strategy(name, extra=[shadow])
