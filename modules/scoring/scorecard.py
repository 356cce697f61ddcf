"""The built-in ``scorecard`` model type: validation of scorecard documents and vectorised
batch scoring with numpy.

A scorecard adds points per characteristic: each feature falls in one bin (a numeric
interval ``[lower, upper)``, a group of categories, or the missing bin) and the bin's points
add up, with ``base_points``, to the score. Scaling (DOMAIN.md) turns points into odds::

    factor = pdo / ln 2          offset = base_score − factor·ln(base_odds)
    score  = offset + factor·ln(odds)   ⇒   odds = exp((score − offset) / factor)

The odds are those of the *good* outcome, the one a higher score means: for ``risk``
scorecards, good:bad (repaying), and ``probability`` is the probability of the bad outcome,
``1 / (1 + odds)``; for ``propensity`` scorecards, paying:not paying, and ``probability``
is the propensity to pay, ``odds / (1 + odds)``. Probabilities follow from the integer
score, so a client can recompute them.

Reason codes are the characteristics where the record lost the most points against the
characteristic's best bin (at most four, worst first; a characteristic in its best bin is
never a reason), as credit bureaus report them.

Scoring a batch is a ``np.searchsorted`` on each numeric characteristic's bin edges (a dict
lookup for categories), a points lookup per characteristic and a sum, all on arrays.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from marshmallow import ValidationError

from almacen.gateway.errors import marshmallow_errors

from .model_types import FeatureError, Missing, ScoreResult
from .schemas import ScorecardSchema

__all__ = [
    "SCORECARD",
    "CompiledScorecard",
    "Evaluation",
    "ScorecardType",
    "compile_scorecard",
    "scaling",
]

#: Reason codes reported per record, as bureaus do.
MAX_REASONS = 4
MISSING_LABEL = "missing"
OTHER_LABEL = "other"
#: Types a numeric column may hold to take the fast path (None is missing).
_NUMBERS = frozenset({int, float, type(None)})

_schema = ScorecardSchema()


def scaling(base_score: float, base_odds: float, pdo: float) -> tuple[float, float]:
    """``(factor, offset)`` of a scale: ``factor = pdo / ln 2``, ``offset = base_score −
    factor·ln(base_odds)`` (600 at 50:1 with PDO 20 → 28.8539, 487.1229)."""
    factor = pdo / math.log(2)
    return factor, base_score - factor * math.log(base_odds)


@dataclasses.dataclass(frozen=True, slots=True)
class _Characteristic:
    """A characteristic ready to score: bin index ``m`` is the missing bin, ``m + 1`` other."""

    name: str
    numeric: bool
    reason: str
    #: Bin edges ``[lower_0, upper_0, upper_1, …]`` with ±inf for open ends (numeric).
    edges: npt.NDArray[np.float64]
    #: Category → bin index (categorical).
    groups: dict[str, int]
    #: Points of bins ``0..m-1``, then missing, then other.
    points: npt.NDArray[np.float64]
    #: Labels, indexed like ``points``.
    labels: npt.NDArray[np.object_]
    #: Index of ``other`` for an unknown category, or -1 when there are no other points.
    other: int
    #: The best points a record can get here: losses (reasons) are measured against it.
    best: float

    @property
    def missing_bin(self) -> int:
        """Index of the missing bin."""
        return len(self.points) - 2


@dataclasses.dataclass(frozen=True, slots=True)
class Evaluation:
    """A batch scored as arrays (before results are built for the wire)."""

    #: Integer scores, one per record.
    scores: npt.NDArray[np.int64]
    #: Bin index per record and characteristic, shape ``(records, characteristics)``.
    bins: npt.NDArray[np.intp]
    #: Probability per record (see the module docstring for which outcome).
    probabilities: npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True, slots=True)
class Explanation:
    """Why each record of a batch scored as it did, as arrays."""

    #: Characteristic indexes of the top reasons, shape ``(records, min(4, characteristics))``.
    reasons: npt.NDArray[np.intp]
    #: Whether each of those reasons really cost points (a record in every best bin has none).
    lost: npt.NDArray[np.bool_]
    #: The band of each record (None without bands).
    bands: list[str | None]


@dataclasses.dataclass(frozen=True, slots=True)
class CompiledScorecard:
    """A valid scorecard document turned into arrays, ready to score batches."""

    purpose: str
    missing: Missing | None
    base_points: float
    factor: float
    offset: float
    characteristics: tuple[_Characteristic, ...]
    #: Ascending band floors and their grades; ``floor_grade`` is the open-ended last band.
    band_floors: npt.NDArray[np.float64]
    band_grades: tuple[str, ...]
    floor_grade: str | None

    @property
    def names(self) -> list[str]:
        """The characteristics' feature names, in document order."""
        return [c.name for c in self.characteristics]

    def evaluate(self, records: Sequence[Mapping[str, Any]], *, missing: Missing) -> Evaluation:
        """Scores, bins and probabilities of a batch of feature mappings.

        :raises FeatureError: every fault of the batch (absent under ``reject``, unreadable,
            outside every bin), not only the first.
        """
        n = len(records)
        columns = np.empty((n, len(self.characteristics)), dtype=np.intp)
        total = np.full(n, self.base_points, dtype=np.float64)
        faults: list[dict[str, Any]] = []
        for k, characteristic in enumerate(self.characteristics):
            values = [record.get(characteristic.name) for record in records]
            if characteristic.numeric:
                index = _numeric_bins(characteristic, values, missing, faults)
            else:
                index = _category_bins(characteristic, values, missing, faults)
            columns[:, k] = index
            total += characteristic.points[index]
        if faults:
            raise FeatureError(sorted(faults, key=lambda f: (f["index"], f["feature"])))
        scores = np.rint(total).astype(np.int64)
        odds = np.exp((scores - self.offset) / self.factor)
        good = odds / (1.0 + odds)
        probabilities = good if self.purpose == "propensity" else 1.0 - good
        return Evaluation(scores=scores, bins=columns, probabilities=probabilities)

    def explain(self, evaluation: Evaluation) -> Explanation:
        """Reason codes and bands of a batch, as arrays (batch callers need no dicts).

        The reasons of a record are the characteristics that cost it the most points against
        their best bin, at most :data:`MAX_REASONS`, most costly first.
        """
        n, k = evaluation.bins.shape
        losses = np.empty((n, k), dtype=np.float64)
        for j, characteristic in enumerate(self.characteristics):
            losses[:, j] = characteristic.best - characteristic.points[evaluation.bins[:, j]]
        order = np.argsort(-losses, axis=1, kind="stable")[:, : min(MAX_REASONS, k)]
        lost = np.take_along_axis(losses, order, axis=1) > 1e-9
        return Explanation(reasons=order, lost=lost, bands=self._bands(evaluation.scores))

    def results(self, evaluation: Evaluation) -> list[ScoreResult]:
        """The wire form of an evaluation: one :class:`ScoreResult` per record."""
        n, _ = evaluation.bins.shape
        if n == 0:
            return []
        names = self.names
        labels = [
            characteristic.labels[evaluation.bins[:, j]].tolist()
            for j, characteristic in enumerate(self.characteristics)
        ]
        explained = self.explain(evaluation)
        codes = [c.reason for c in self.characteristics]
        reasons = [
            [codes[j] for j, keep in zip(row, kept, strict=True) if keep]
            for row, kept in zip(explained.reasons.tolist(), explained.lost.tolist(), strict=True)
        ]
        bands = explained.bands
        return [
            {
                "score": score,
                "probability": probability,
                "band": band,
                "reasons": why,
                "bins": dict(zip(names, row, strict=True)),
            }
            for score, probability, band, why, row in zip(
                evaluation.scores.tolist(),
                evaluation.probabilities.tolist(),
                bands,
                reasons,
                zip(*labels, strict=True),
                strict=True,
            )
        ]

    def _bands(self, scores: npt.NDArray[np.int64]) -> list[str | None]:
        if not self.band_grades and self.floor_grade is None:
            return [None] * len(scores)
        grades: list[str | None] = [self.floor_grade, *self.band_grades]
        position = np.searchsorted(self.band_floors, scores, side="right")
        return [grades[p] for p in position.tolist()]


def _numeric_bins(
    characteristic: _Characteristic,
    values: list[Any],
    missing: Missing,
    faults: list[dict[str, Any]],
) -> npt.NDArray[np.intp]:
    """Bin index of each value of a numeric characteristic; faults appended."""
    if _NUMBERS.issuperset(map(type, values)):
        x = np.array(values, dtype=np.float64)  # None becomes NaN: missing
    else:  # numeric strings are read; text, booleans and the rest are faults
        x = np.array([_number(v) for v in values], dtype=np.float64)
    m = characteristic.missing_bin
    index = np.searchsorted(characteristic.edges, x, side="right") - 1
    absent = np.isnan(x)
    if absent.any():
        for i in np.flatnonzero(absent).tolist():
            if values[i] is not None:
                faults.append(_fault(i, characteristic, f"{values[i]!r} is not a number"))
        _absent(characteristic, values, absent, missing, faults)
    outside = ((index < 0) | (index >= m)) & ~absent
    if outside.any():
        for i in np.flatnonzero(outside).tolist():
            faults.append(_fault(i, characteristic, f"{x[i]:g} is outside every bin"))
    index[absent | outside] = m
    return index


def _category_bins(
    characteristic: _Characteristic,
    values: list[Any],
    missing: Missing,
    faults: list[dict[str, Any]],
) -> npt.NDArray[np.intp]:
    """Bin index of each value of a categorical characteristic; faults appended."""
    groups = characteristic.groups
    m = characteristic.missing_bin
    index = np.array([groups.get(v, -1) if v.__class__ is str else -1 for v in values], np.intp)
    unknown = np.flatnonzero(index < 0).tolist()
    if not unknown:
        return index
    absent = np.zeros(len(values), dtype=bool)
    for i in unknown:
        value = values[i]
        if value is None:
            absent[i] = True
        elif isinstance(value, bool) or not isinstance(value, str | int):
            faults.append(_fault(i, characteristic, "not a category (a string)"))
        elif (found := groups.get(str(value))) is not None:
            index[i] = found
        elif characteristic.other >= 0:
            index[i] = characteristic.other
        elif missing == "bin":
            index[i] = m
        else:
            faults.append(_fault(i, characteristic, f"{value!r} is in no category group"))
    if absent.any():
        _absent(characteristic, values, absent, missing, faults)
        index[absent] = m
    return index


def _absent(
    characteristic: _Characteristic,
    values: list[Any],
    absent: npt.NDArray[np.bool_],
    missing: Missing,
    faults: list[dict[str, Any]],
) -> None:
    if missing == "reject":
        for i in np.flatnonzero(absent).tolist():
            if values[i] is None:
                faults.append(_fault(i, characteristic, "missing (the model rejects it)"))


def _number(value: Any) -> float:
    """A value as a float, or NaN when it is not a finite number."""
    if value is None or isinstance(value, bool):
        return math.nan
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return math.nan
        return number if math.isfinite(number) else math.nan
    return math.nan


def _fault(index: int, characteristic: _Characteristic, detail: str) -> dict[str, Any]:
    return {"index": index, "feature": characteristic.name, "detail": detail}


def compile_scorecard(document: Mapping[str, Any]) -> CompiledScorecard:
    """A valid scorecard document as arrays.

    :raises ValueError: the document is not valid (check with :meth:`ScorecardType.validate`).
    """
    try:
        loaded: dict[str, Any] = _schema.load(dict(document))
    except ValidationError as exc:
        raise ValueError(f"not a valid scorecard: {exc.messages}") from None
    factor, offset = scaling(**loaded["scaling"])
    characteristics = tuple(_compile_characteristic(c) for c in loaded["characteristics"])
    floors = [(b["min_score"], b["grade"]) for b in loaded["bands"] if b["min_score"] is not None]
    floors.sort()
    open_ended = [b["grade"] for b in loaded["bands"] if b["min_score"] is None]
    return CompiledScorecard(
        purpose=loaded["purpose"],
        missing=loaded["missing"],
        base_points=loaded["base_points"],
        factor=factor,
        offset=offset,
        characteristics=characteristics,
        band_floors=np.array([f for f, _ in floors], dtype=np.float64),
        band_grades=tuple(g for _, g in floors),
        floor_grade=open_ended[0] if open_ended else None,
    )


def _compile_characteristic(spec: Mapping[str, Any]) -> _Characteristic:
    bins = spec["bins"]
    points = [b["points"] for b in bins]
    missing_points = spec["missing_points"]
    if missing_points is None:
        missing_points = min(points)
    other_points = spec["other_points"]
    numeric = spec["kind"] == "numeric"
    labels = [b["label"] or _label(b, numeric) for b in bins]
    if numeric:
        edges = [_bound(bins[0]["lower"], -math.inf)] + [_bound(b["upper"], math.inf) for b in bins]
        groups: dict[str, int] = {}
    else:
        edges = []
        groups = {category: i for i, b in enumerate(bins) for category in b["categories"]}
    return _Characteristic(
        name=spec["name"],
        numeric=numeric,
        reason=spec["reason_code"] or spec["name"],
        edges=np.array(edges, dtype=np.float64),
        groups=groups,
        points=np.array(
            [*points, missing_points, other_points if other_points is not None else 0.0],
            dtype=np.float64,
        ),
        labels=np.array([*labels, MISSING_LABEL, OTHER_LABEL], dtype=object),
        other=len(bins) + 1 if other_points is not None else -1,
        best=max([*points, missing_points, *([other_points] if other_points is not None else [])]),
    )


def _bound(value: float | None, default: float) -> float:
    return default if value is None else value


def _label(bin_: Mapping[str, Any], numeric: bool) -> str:
    if not numeric:
        return ",".join(bin_["categories"])
    lower = "-inf" if bin_["lower"] is None else f"{bin_['lower']:g}"
    upper = "inf" if bin_["upper"] is None else f"{bin_['upper']:g}"
    return f"[{lower}, {upper})"


def semantic_faults(loaded: Mapping[str, Any]) -> list[dict[str, str]]:
    """Faults marshmallow cannot see: overlapping or gapped intervals, a category in two
    groups, a characteristic twice, bands out of order; pointers into the document."""
    faults: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for i, spec in enumerate(loaded["characteristics"]):
        where = f"/characteristics/{i}"
        if spec["name"] in seen:
            faults.append(_at(f"{where}/name", f"characteristic {spec['name']!r} appears twice"))
        seen.setdefault(spec["name"], i)
        if spec["kind"] == "numeric":
            faults += _interval_faults(spec["bins"], where)
            if spec["other_points"] is not None:
                faults.append(_at(f"{where}/other_points", "only categorical characteristics"))
        else:
            faults += _category_faults(spec["bins"], where)
    faults += _band_faults(loaded["bands"])
    return faults


def _interval_faults(bins: Sequence[Mapping[str, Any]], where: str) -> list[dict[str, str]]:
    faults: list[dict[str, str]] = []
    for j, b in enumerate(bins):
        at = f"{where}/bins/{j}"
        if b["categories"] is not None:
            faults.append(_at(f"{at}/categories", "a numeric bin is an interval, not categories"))
        lower, upper = b["lower"], b["upper"]
        if lower is not None and upper is not None and not lower < upper:
            faults.append(_at(f"{at}/upper", f"upper ({upper:g}) must exceed lower ({lower:g})"))
        if j == 0:
            continue
        before = bins[j - 1]["upper"]
        if before is None or lower is None:
            faults.append(_at(f"{at}/lower", "overlaps the bin before it (an open end)"))
        elif lower < before:
            faults.append(_at(f"{at}/lower", f"overlaps the bin before it (ends at {before:g})"))
        elif lower > before:
            faults.append(_at(f"{at}/lower", f"leaves a gap after the bin before ({before:g})"))
    return faults


def _category_faults(bins: Sequence[Mapping[str, Any]], where: str) -> list[dict[str, str]]:
    faults: list[dict[str, str]] = []
    owner: dict[str, int] = {}
    for j, b in enumerate(bins):
        at = f"{where}/bins/{j}"
        if b["categories"] is None or not b["categories"]:
            faults.append(_at(f"{at}/categories", "a categorical bin lists its categories"))
            continue
        if b["lower"] is not None or b["upper"] is not None:
            faults.append(_at(at, "a categorical bin has no interval"))
        for c, category in enumerate(b["categories"]):
            if category in owner:
                faults.append(
                    _at(f"{at}/categories/{c}", f"{category!r} is already in bin {owner[category]}")
                )
            owner.setdefault(category, j)
    return faults


def _band_faults(bands: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    faults: list[dict[str, str]] = []
    grades: set[str] = set()
    previous: float | None = None
    for j, band in enumerate(bands):
        if band["grade"] in grades:
            faults.append(_at(f"/bands/{j}/grade", f"grade {band['grade']!r} appears twice"))
        grades.add(band["grade"])
        floor = band["min_score"]
        if floor is None:
            if j != len(bands) - 1:
                faults.append(_at(f"/bands/{j}/min_score", "only the last band is open-ended"))
            continue
        if previous is not None and not floor < previous:
            faults.append(_at(f"/bands/{j}/min_score", "bands go from the highest score down"))
        previous = floor
    return faults


def _at(pointer: str, detail: str) -> dict[str, str]:
    return {"pointer": pointer, "detail": detail}


class ScorecardType:
    """The built-in ``scorecard`` model type (see the module docstring)."""

    name = "scorecard"

    def validate(self, document: Mapping[str, Any]) -> list[dict[str, str]]:
        """Shape faults (marshmallow) or, when the shape is right, semantic faults."""
        try:
            loaded = _schema.load(dict(document))
        except ValidationError as exc:
            return marshmallow_errors(exc.messages)
        return semantic_faults(loaded)

    def features(self, document: Mapping[str, Any]) -> list[str]:
        """The characteristics' names."""
        return [c["name"] for c in document["characteristics"]]

    def score(
        self,
        document: Mapping[str, Any],
        records: Sequence[Mapping[str, Any]],
        *,
        missing: Missing,
    ) -> list[ScoreResult]:
        """Score a batch (see :meth:`CompiledScorecard.evaluate`)."""
        compiled = compile_scorecard(document)
        return compiled.results(compiled.evaluate(records, missing=missing))


#: The one instance the registry uses.
SCORECARD = ScorecardType()
