"""Almacén step-up: payment plans whose instalments grow over time, for the offers module.

An example third-party plugin. It adds no module of its own: it implements the offers
module's ``almacen_offers_offer_types`` hook with one offer type, ``step_up``
(:mod:`.plan`).
"""

from __future__ import annotations

from collections.abc import Iterable

from almacen import hookimpl
from almacen.modules.offers.menu import OfferType

from .plan import STEP_UP, StepUpPlans, step_up_schedule

__all__ = ["STEP_UP", "StepUpPlans", "almacen_offers_offer_types", "step_up_schedule"]


@hookimpl
def almacen_offers_offer_types() -> Iterable[OfferType]:
    """Offer the ``step_up`` offer type."""
    return [STEP_UP]
