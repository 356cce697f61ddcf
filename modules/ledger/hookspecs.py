"""The ledger's own hook specifications, added by the ledger plugin through ``almacen_addhooks``.

Each hook is an empty, documented function. Implement one in a plugin with the same name,
decorated with ``almacen.hookimpl``; take any subset of the arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from almacen.gateway.markers import hookspec

if TYPE_CHECKING:
    from .allocation import AllocationStrategy


@hookspec
def almacen_ledger_allocation_strategies() -> Iterable[AllocationStrategy] | None:
    """Add payment allocation strategies that tenants may name in their ``allocation`` setting.

    Implement it in any plugin installed beside the ledger. Each strategy follows
    :class:`~almacen.modules.ledger.allocation.AllocationStrategy`: a unique ``name`` and an
    ``allocate`` method that never pays a component more than it owes.

    :return: an iterable of strategies, or None to add none. All non-None results are
        collected; a strategy that takes a built-in name (``waterfall``,
        ``component_first``) or another plugin's name is refused.
    """
