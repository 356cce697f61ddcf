"""Drift monitoring: PSI of a model's scores and CSI of its characteristics, stored as runs.

The *recent window* is the model's :class:`ScoreRecord` s scored in ``[window_from,
window_to)``. The *baseline* is, in order of preference:

1. the scores of an earlier window ``[baseline_from, baseline_to)`` when the caller gives one;
2. the training baseline in the model document, ``document["baseline"]``::

       {"score": {"edges": [520, 560, 600], "shares": [0.1, 0.3, 0.4, 0.2]},
        "characteristics": {"age": {"18-25": 0.2, "26-40": 0.5, "41+": 0.3}}}

   ``edges`` are the inner edges of the score bins (``len(edges) + 1`` bins: ``(-inf, e1)``,
   ``[e1, e2)``, …, ``[ek, inf)``) and ``shares`` the training population's share in each
   (counts are accepted too: they are normalised). ``characteristics`` maps each
   characteristic to its bins' shares by bin label, the labels score records carry in
   ``bins``.

A window baseline is cut into deciles of its own scores. The arithmetic, and how an empty bin
is counted, is in :mod:`.psi`. A run whose PSI exceeds the tenant's ``drift_threshold``
emits ``scoring.drift_detected`` in the same transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from almacen import emit
from almacen.gateway.errors import NotFoundError, UnprocessableError
from almacen.gateway.pagination import Page, paginate

from . import events, psi
from .model_tables import ScoreRecord, ScoringModel
from .segment_tables import MonitoringRun

__all__ = ["Window", "list_runs", "run"]

SIX_PLACES = Decimal("0.000001")


@dataclasses.dataclass(frozen=True)
class Window:
    """A half-open interval of scoring times, ``[start, end)``."""

    start: dt.datetime
    end: dt.datetime


@dataclasses.dataclass(frozen=True)
class _Population:
    """Scores and bin labels of a set of score records."""

    scores: list[float]
    bins: list[Mapping[str, Any]]


def find_model(session: Session, model_id: str) -> ScoringModel:
    """The tenant's model version ``model_id``.

    :raises NotFoundError: no such model for this tenant.
    """
    model = session.scalar(select(ScoringModel).where(ScoringModel.id == model_id))
    if model is None:
        raise NotFoundError(f"No model {model_id!r}.", errors=[_path("model_id", "no such model")])
    return model


def run(
    session: Session,
    model_id: str,
    *,
    window: Window,
    baseline: Window | None,
    threshold: Decimal,
) -> MonitoringRun:
    """Compute and store a stability run of ``model_id`` over ``window``.

    :raises NotFoundError: unknown model.
    :raises UnprocessableError: an empty window, an empty baseline window, or no baseline.
    """
    model = find_model(session, model_id)
    threshold = threshold.quantize(SIX_PLACES)
    recent = _population(session, model.id, window)
    if not recent.scores:
        raise UnprocessableError(
            "No scores were recorded with this model in the window.",
            errors=[{"pointer": "/window_from", "detail": "the window holds no score records"}],
        )
    if baseline is not None:
        reference = _population(session, model.id, baseline)
        if not reference.scores:
            raise UnprocessableError(
                "No scores were recorded with this model in the baseline window.",
                errors=[
                    {"pointer": "/baseline_from", "detail": "the window holds no score records"}
                ],
            )
        edges = psi.quantile_edges(reference.scores)
        expected_scores = psi.shares(psi.bin_counts(reference.scores, edges))
        expected_bins = _label_shares(reference.bins)
        source = "window"
    else:
        document_baseline = _document_baseline(model.document)
        edges, expected_scores, expected_bins = document_baseline
        source = "model"
    actual_scores = psi.shares(psi.bin_counts(recent.scores, edges))
    score_terms = psi.contributions(expected_scores, actual_scores)
    index = _six(math.fsum(score_terms))
    labels = _edge_labels(edges)
    detail = {
        "score_bins": [
            _bin(label, e, a, t)
            for label, e, a, t in zip(
                labels, expected_scores, actual_scores, score_terms, strict=True
            )
        ],
        "characteristics": _characteristics(expected_bins, _label_shares(recent.bins)),
    }
    drifted = index > threshold
    monitoring_run = MonitoringRun(
        model_id=model.id,
        window_from=window.start,
        window_to=window.end,
        baseline=source,
        records=len(recent.scores),
        psi=index,
        threshold=threshold,
        drifted=drifted,
        detail=detail,
    )
    session.add(monitoring_run)
    session.flush()
    if drifted:
        emit(
            session,
            events.DRIFT_DETECTED,
            {
                "model_id": model.id,
                "psi": index,
                "threshold": threshold,
                "window_from": window.start,
                "window_to": window.end,
            },
            subject=("model", model.id),
        )
    return monitoring_run


def list_runs(
    session: Session, model_id: str, *, limit: int, cursor: str | None
) -> Page[MonitoringRun]:
    """The model's runs, oldest first.

    :raises NotFoundError: unknown model.
    """
    find_model(session, model_id)
    return paginate(
        session,
        select(MonitoringRun).where(MonitoringRun.model_id == model_id),
        keys=(MonitoringRun.created_at, MonitoringRun.id),
        limit=limit,
        cursor=cursor,
    )


# -- helpers -------------------------------------------------------------------------------


def _path(name: str, detail: str) -> dict[str, str]:
    return {"parameter": name, "in": "path", "detail": detail}


def _population(session: Session, model_id: str, window: Window) -> _Population:
    rows = session.execute(
        select(ScoreRecord.score, ScoreRecord.bins).where(
            ScoreRecord.model_id == model_id,
            ScoreRecord.scored_at >= window.start,
            ScoreRecord.scored_at < window.end,
        )
    )
    scores: list[float] = []
    bins: list[Mapping[str, Any]] = []
    for score, labels in rows:
        scores.append(float(score))
        bins.append(labels or {})
    return _Population(scores, bins)


def _document_baseline(
    document: Mapping[str, Any],
) -> tuple[list[float], list[float], dict[str, dict[str, float]]]:
    """The training baseline of a model document: score edges and shares, bin shares."""
    baseline = document.get("baseline")
    if not isinstance(baseline, Mapping) or not isinstance(baseline.get("score"), Mapping):
        raise UnprocessableError(
            "The model document has no training baseline: give baseline_from and baseline_to "
            "to compare with an earlier window.",
            errors=[{"pointer": "/baseline_from", "detail": "required: the model has no baseline"}],
        )
    score = baseline["score"]
    try:
        edges = [float(edge) for edge in score["edges"]]
        expected = psi.shares([float(share) for share in score["shares"]])
        if len(expected) != len(edges) + 1 or edges != sorted(edges):
            raise ValueError("shares must have one more member than the sorted edges")
        characteristics = {
            str(name): dict(
                zip(
                    [str(label) for label in labels],
                    psi.shares([float(share) for share in labels.values()]),
                    strict=True,
                )
            )
            for name, labels in (baseline.get("characteristics") or {}).items()
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UnprocessableError(
            f"The model's baseline cannot be read: {exc}",
            errors=[{"pointer": "/baseline_from", "detail": "the model's baseline is malformed"}],
        ) from None
    return edges, expected, characteristics


def _label_shares(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Each characteristic's share of records per bin label."""
    counts: dict[str, Counter[str]] = {}
    for labels in records:
        for name, label in labels.items():
            counts.setdefault(str(name), Counter())[str(label)] += 1
    return {
        name: dict(zip(counter, psi.shares(list(counter.values())), strict=True))
        for name, counter in counts.items()
    }


def _characteristics(
    expected: Mapping[str, Mapping[str, float]], actual: Mapping[str, Mapping[str, float]]
) -> list[dict[str, Any]]:
    """CSI per characteristic known to the baseline, over the union of bin labels."""
    found = []
    for name in sorted(expected):
        labels = sorted(set(expected[name]) | set(actual.get(name, {})))
        e = [expected[name].get(label, 0.0) for label in labels]
        a = [actual.get(name, {}).get(label, 0.0) for label in labels]
        terms = psi.contributions(e, a)
        found.append(
            {
                "name": name,
                "csi": str(_six(math.fsum(terms))),
                "bins": [
                    _bin(label, x, y, t) for label, x, y, t in zip(labels, e, a, terms, strict=True)
                ],
            }
        )
    return found


def _edge_labels(edges: Sequence[float]) -> list[str]:
    bounds = ["-inf", *(_number(edge) for edge in edges), "inf"]
    return [f"[{low}, {high})" for low, high in itertools.pairwise(bounds)]


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def _bin(label: str, expected: float, actual: float, term: float) -> dict[str, str]:
    return {
        "bin": label,
        "expected": str(_six(expected)),
        "actual": str(_six(actual)),
        "contribution": str(_six(term)),
    }


def _six(value: float) -> Decimal:
    """A figure as a Decimal of six places (what is stored, shown and compared)."""
    return Decimal(repr(value)).quantize(SIX_PLACES)
