"""Hook specifications the scoring module offers to plugins."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from almacen import hookspec

if TYPE_CHECKING:
    from .model_types import ModelType


@hookspec
def almacen_scoring_model_types() -> Iterable[ModelType] | None:
    """Add model types beside the built-in ``scorecard``.

    A model type validates a model document of its kind and scores records with it. Models
    are data (a document the tenant uploads or trains) or code shipped in a plugin: never a
    pickle uploaded by a user.

    :return: an iterable of :class:`~almacen.modules.scoring.model_types.ModelType`, or None.
        A type whose name is taken is a load failure of the plugin that added it second.
    """
