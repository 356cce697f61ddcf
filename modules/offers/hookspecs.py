"""Hook specifications the offers module offers to plugins."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from almacen import hookspec

if TYPE_CHECKING:
    from .menu import OfferType


@hookspec
def almacen_offers_offer_types() -> Iterable[OfferType] | None:
    """Add offer types beside the built-in ones (pay in full, settlement, plan, refinancing).

    An offer type has a unique ``name`` and ``offers(terms, facts, today)`` returning
    :class:`~almacen.modules.offers.menu.Offer` objects for an account; the menu drops any
    that breaks a bound of the policy.

    :return: an iterable of :class:`~almacen.modules.offers.menu.OfferType`, or None.
    """
