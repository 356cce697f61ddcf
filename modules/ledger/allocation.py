"""Payment allocation: which instalment and component each unit of a payment pays.

A strategy receives the amount and what is due, component by component, and answers with
allocations; it never allocates more than a due's outstanding amount nor more than the
payment. What it leaves unallocated is the caller's to book as a credit balance, so a
receivable never goes negative.

Two strategies are built in:

* ``waterfall`` — oldest instalment first; within an instalment, components in the
  tenant's waterfall order (default fees, penalties, interest, principal).
* ``component_first`` — each component across all instalments before the next component
  (all fees, then all penalties, then all interest, then principal), oldest first.

Plugins add strategies through the ``almacen_ledger_allocation_strategies`` hook (see
:mod:`.hookspecs`); :func:`resolve_strategy` picks one by the name in the configuration.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

from almacen.gateway.errors import UnprocessableError

from .config import COMPONENTS
from .journal import Outstanding

__all__ = [
    "Allocation",
    "AllocationStrategy",
    "ComponentFirstStrategy",
    "Due",
    "WaterfallStrategy",
    "allocate_in_order",
    "dues_from_outstanding",
    "resolve_strategy",
]


@dataclasses.dataclass(frozen=True, slots=True)
class Due:
    """What one instalment still owes on one component."""

    instalment_id: str
    number: int
    due_on: dt.date
    component: str
    outstanding: Decimal


@dataclasses.dataclass(frozen=True, slots=True)
class Allocation:
    """Part of a payment applied to one component of one instalment."""

    instalment_id: str
    component: str
    amount: Decimal


@runtime_checkable
class AllocationStrategy(Protocol):
    """Decides how a payment is spread over what is due."""

    #: The name tenants give in their ``allocation`` setting; unique among strategies.
    name: str

    def allocate(
        self, amount: Decimal, dues: Sequence[Due], *, waterfall: Sequence[str]
    ) -> list[Allocation]:
        """Spread ``amount`` over ``dues``.

        :param amount: the payment, zero or positive, in the account's currency.
        :param dues: every component of every active instalment, in any order; those whose
            outstanding amount is zero or negative must be skipped.
        :param waterfall: the tenant's component order (each of ``fees``, ``penalties``,
            ``interest`` and ``principal`` once).
        :return: allocations, each positive and at most its due's outstanding amount,
            summing to at most ``amount``; the caller books the rest as a credit balance.
        """
        ...


def _rank(waterfall: Sequence[str]) -> dict[str, int]:
    """Position of each component in the order; callers rank a component missing from it
    last (``len(rank)``), so that it is still paid rather than left owing."""
    return {component: index for index, component in enumerate(waterfall)}


def allocate_in_order(amount: Decimal, dues: Iterable[Due]) -> list[Allocation]:
    """Pay ``dues`` in the order given, each in full before the next, until ``amount`` runs out.

    The building block of the built-in strategies, for plugins that only choose an order.

    :raises ValueError: when ``amount`` is negative.
    """
    if amount < 0:
        raise ValueError(f"cannot allocate a negative amount ({amount})")
    left = amount
    allocations: list[Allocation] = []
    for due in dues:
        if left <= 0:
            break
        if due.outstanding <= 0:
            continue
        paid = min(left, due.outstanding)
        allocations.append(Allocation(due.instalment_id, due.component, paid))
        left -= paid
    return allocations


class WaterfallStrategy:
    """Oldest instalment first; within an instalment, components in waterfall order."""

    name = "waterfall"

    def allocate(
        self, amount: Decimal, dues: Sequence[Due], *, waterfall: Sequence[str] = COMPONENTS
    ) -> list[Allocation]:
        """Spread ``amount`` instalment by instalment (by due date, then number)."""
        rank = _rank(waterfall)
        ordered = sorted(
            dues,
            key=lambda d: (
                d.due_on,
                d.number,
                d.instalment_id,
                rank.get(d.component, len(rank)),
                d.component,
            ),
        )
        return allocate_in_order(amount, ordered)


class ComponentFirstStrategy:
    """Each component across all instalments, oldest first, before the next component."""

    name = "component_first"

    def allocate(
        self, amount: Decimal, dues: Sequence[Due], *, waterfall: Sequence[str] = COMPONENTS
    ) -> list[Allocation]:
        """Spread ``amount`` component by component (e.g. all interest before any principal)."""
        rank = _rank(waterfall)
        ordered = sorted(
            dues,
            key=lambda d: (
                rank.get(d.component, len(rank)),
                d.component,
                d.due_on,
                d.number,
                d.instalment_id,
            ),
        )
        return allocate_in_order(amount, ordered)


_BUILT_IN: tuple[AllocationStrategy, ...] = (WaterfallStrategy(), ComponentFirstStrategy())


def dues_from_outstanding(rows: Sequence[Outstanding]) -> list[Due]:
    """One :class:`Due` per component of each instalment, from
    :func:`~.journal.outstanding_by_instalment` (zero components included; strategies skip
    them)."""
    return [
        Due(row.instalment_id, row.number, row.due_on, component, owed)
        for row in rows
        for component, owed in row.components.items()
    ]


def resolve_strategy(name: str, *, extra: Iterable[AllocationStrategy] = ()) -> AllocationStrategy:
    """The strategy called ``name``, among the built-in ones and ``extra`` (from plugins).

    :param name: the tenant's ``allocation`` setting.
    :param extra: strategies plugins registered through
        ``almacen_ledger_allocation_strategies``.
    :raises ValueError: when a plugin strategy takes a built-in name, or two take one name.
    :raises UnprocessableError: when no strategy has that name (the problem lists the known
        ones).
    """
    known: dict[str, AllocationStrategy] = {s.name: s for s in _BUILT_IN}
    for strategy in extra:
        if strategy.name in known:
            owner = "a built-in" if strategy.name in {s.name for s in _BUILT_IN} else "another"
            raise ValueError(
                f"allocation strategy {strategy.name!r} is already {owner} strategy's name"
            )
        known[strategy.name] = strategy
    try:
        return known[name]
    except KeyError:
        names = sorted(known)
        raise UnprocessableError(
            f"unknown allocation strategy {name!r}; known strategies: {', '.join(names)}",
            strategy=name,
            known=names,
        ) from None
