"""What a model type is: validates documents of its kind and scores records with them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

__all__ = ["ModelType"]


class ModelType(Protocol):
    """A kind of model (``scorecard`` is built in; plugins add others)."""

    #: The ``type`` of the model documents it handles.
    name: str

    def validate(self, document: Mapping[str, Any]) -> list[dict[str, str]]:
        """Faults of a model document, each ``{"pointer", "detail"}``; empty when valid."""
        ...

    def score(
        self, document: Mapping[str, Any], records: Sequence[Mapping[str, Any]], *, missing: str
    ) -> list[dict[str, Any]]:
        """One result per record: ``score``, ``probability``, ``band``, ``reasons``."""
        ...
