"""Almacén gbm: gradient-boosted propensity models, as data, for the scoring module.

An example third-party plugin. It adds no module of its own: it implements the scoring
module's ``almacen_scoring_model_types`` hook with one model type, ``gbm`` (:mod:`.model`).
"""

from __future__ import annotations

from collections.abc import Iterable

from almacen import hookimpl
from almacen.modules.scoring.model_types import ModelType

from .model import GBM, GradientBoostedModel

__all__ = ["GBM", "GradientBoostedModel", "almacen_scoring_model_types"]


@hookimpl
def almacen_scoring_model_types() -> Iterable[ModelType]:
    """Offer the ``gbm`` model type."""
    return [GBM]
