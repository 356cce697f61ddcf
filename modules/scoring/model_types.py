"""What a model type is: validates documents of its kind and scores records with them.

The built-in type is ``scorecard`` (:mod:`.scorecard`); plugins add others through the
``almacen_scoring_model_types`` hook. A model type is code shipped in a package; the model
itself is the document a tenant uploads or trains (JSON data, never a pickle).

The registry stores documents whose common members are ``type`` (the type's ``name``),
``purpose`` (``risk`` or ``propensity``) and whatever else the type defines. Before
:meth:`ModelType.validate` runs, the registry has checked ``type`` and ``purpose``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

__all__ = ["FeatureError", "Missing", "ModelType", "ScoreResult"]

#: What to do with a record that lacks a characteristic: score it in the missing bin
#: (``bin``), or reject the request (``reject``: raise :class:`FeatureError`).
Missing = Literal["bin", "reject"]


class ScoreResult(TypedDict):
    """One record's result, as :meth:`ModelType.score` returns it."""

    #: The score in points (an integer; higher means better for ``risk`` scorecards).
    score: int
    #: The probability of the event the model predicts, in [0, 1].
    probability: float
    #: The band or grade the score falls in ("A".."E"), or None when the model has no bands.
    band: str | None
    #: The characteristics that cost the record the most, worst first (at most 4).
    reasons: list[str]
    #: The bin each characteristic fell in, by characteristic name (a label per bin).
    bins: dict[str, str]


class FeatureError(Exception):
    """Raised by :meth:`ModelType.score` when records cannot be scored as given.

    :param faults: each ``{"index": i, "feature": name, "detail": why}``, where ``index`` is
        the position of the record in the sequence passed to ``score``; the caller turns them
        into problem pointers such as ``/records/<i>/features/<name>``.
    """

    def __init__(self, faults: Sequence[Mapping[str, Any]]) -> None:
        super().__init__("; ".join(f"{f['feature']}: {f['detail']}" for f in faults))
        self.faults = [dict(f) for f in faults]


@runtime_checkable
class ModelType(Protocol):
    """A kind of model (``scorecard`` is built in; plugins add others)."""

    #: The ``type`` of the model documents it handles.
    name: str

    def validate(self, document: Mapping[str, Any]) -> list[dict[str, str]]:
        """Faults of a model document, each ``{"pointer", "detail"}``; empty when valid.

        Pointers are JSON pointers into the document (``/characteristics/0/bins/1/upper``);
        the API prefixes them with ``/document``.
        """
        ...

    def features(self, document: Mapping[str, Any]) -> list[str]:
        """The feature names a valid document reads (to fetch or check them before scoring)."""
        ...

    def score(
        self,
        document: Mapping[str, Any],
        records: Sequence[Mapping[str, Any]],
        *,
        missing: Missing,
    ) -> list[ScoreResult]:
        """Score each record's features (a mapping of feature name to value) with a valid document.

        :param missing: how to treat an absent (or null) feature; the model's own
            ``missing`` member, when it has one, has already been applied by the caller.
        :raises FeatureError: a feature is absent under ``reject``, or has a value the
            model cannot read (text for a numeric characteristic).
        :return: one :class:`ScoreResult` per record, in order.
        """
        ...
