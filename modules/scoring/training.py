"""Training a scorecard: optimal binning, logistic regression on WoE, scaling to points.

1. **bin** every characteristic against the target (:mod:`.binning`: optbinning's optimal
   binning, WoE = ln(%non-events / %events)); characteristics whose information value is below
   ``min_iv`` (default 0.02, "not predictive" by the usual rule of thumb) are left out;
2. **fit** a logistic regression of the event on the WoE of the characteristics kept:
   ln(p / (1 − p)) = α + Σ β_j·WoE_j;
3. **scale** to points (``DOMAIN.md``): score = offset + factor·ln(odds), factor = PDO / ln 2,
   offset = base_score − factor·ln(base_odds). For ``risk`` the odds are non-event:event
   (good:bad), so a higher score is a lower risk: ln(odds) = −(α + Σ β_j·WoE_j), and a bin
   of characteristic j among n gets −(β_j·WoE + α/n)·factor + offset/n points. For
   ``propensity`` the event is the wanted outcome (a payment) and the odds are event:non-event,
   so the sign flips: a higher score is a likelier payment;
4. **measure**: AUC, Gini (2·AUC − 1) and KS of the scorecard's points on the training data,
   and the 5-fold stratified cross-validated AUC, where every fold bins and fits again on its
   training part only (binning on all the data first would leak the held-out rows' targets
   into the bins).

The job runs in a background thread and records its progress on :class:`TrainingJob` in short
transactions of their own, like the ledger's imports. The scorecard document follows the
registry's schema (``ScorecardSchema``) and is saved as a draft model.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from almacen.gateway.db import Database, utcnow
from almacen.gateway.errors import NotFoundError, UnprocessableError
from almacen.gateway.pagination import Page, paginate

from . import datasets
from .binning import Binned, apply_woe, assign, fit_characteristic
from .datasets import Frame
from .training_tables import TrainingDataset, TrainingJob

__all__ = [
    "Scaling",
    "Scorecard",
    "create_job",
    "cross_validate",
    "discrimination",
    "fit_scorecard",
    "get_job",
    "list_jobs",
    "run_job",
    "train",
]

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]
#: Characteristics with less information value than this are left out by default.
MIN_IV = 0.02
FOLDS = 5
SEED = 0


@dataclasses.dataclass(frozen=True)
class Scaling:
    """Points to odds: ``base_score`` points at odds ``base_odds``, ``pdo`` points to double."""

    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0

    @property
    def factor(self) -> float:
        """PDO / ln 2: points per unit of log-odds."""
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        """base_score − factor·ln(base_odds): the score at odds 1:1."""
        return self.base_score - self.factor * math.log(self.base_odds)

    def as_json(self) -> dict[str, float]:
        """The document's ``scaling``."""
        return {"base_score": self.base_score, "base_odds": self.base_odds, "pdo": self.pdo}


@dataclasses.dataclass(frozen=True)
class Scorecard:
    """A fitted scorecard: the characteristics kept, their coefficients, and the intercept."""

    binned: tuple[Binned, ...]
    coefficients: tuple[float, ...]
    intercept: float
    scaling: Scaling
    purpose: str

    @property
    def sign(self) -> float:
        """−1 for risk (score grows with the non-event's odds), +1 for propensity."""
        return 1.0 if self.purpose == "propensity" else -1.0

    def points(self, j: int, woe: float) -> float:
        """Points of a bin of WoE ``woe`` of characteristic ``j``."""
        n = len(self.binned)
        s = self.scaling
        beta = self.coefficients[j]
        return self.sign * (beta * woe + self.intercept / n) * s.factor + s.offset / n

    def score(self, frame: Frame) -> npt.NDArray[np.float64]:
        """The (unrounded) score of every row of ``frame``."""
        total = np.zeros(frame.rows)
        for j, binned in enumerate(self.binned):
            table = [self.points(j, b.woe) for b in (*binned.bins, binned.missing)]
            total += np.asarray(table)[assign(binned, frame.columns[binned.name])]
        return total

    def document(self, name: str, description: str | None = None) -> dict[str, Any]:
        """The scorecard as a registry document (``type: scorecard``), points to 2 places."""
        characteristics = []
        for j, binned in enumerate(self.binned):
            bins = []
            for b in binned.bins:
                item: dict[str, Any] = {"points": round(self.points(j, b.woe), 2)}
                if binned.kind == "numeric":
                    item.update(lower=b.lower, upper=b.upper, label=b.label)
                else:
                    item["categories"] = list(b.categories or ())
                bins.append(item)
            characteristics.append(
                {
                    "name": binned.name,
                    "kind": binned.kind,
                    "bins": bins,
                    # Missing values seen in training have their own points; otherwise the
                    # registry's default (the worst bin's) applies.
                    "missing_points": (
                        round(self.points(j, binned.missing.woe), 2)
                        if binned.missing.count
                        else None
                    ),
                }
            )
        return {
            "type": "scorecard",
            "purpose": self.purpose,
            "base_points": 0.0,
            "scaling": self.scaling.as_json(),
            "characteristics": characteristics,
            "bands": [],
            "description": description or f"Trained scorecard {name}",
        }


def _logistic(x: npt.NDArray[np.float64], y: npt.NDArray[np.int8]) -> tuple[list[float], float]:
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    return [float(b) for b in model.coef_[0]], float(model.intercept_[0])


def _woe_matrix(binned: Sequence[Binned], frame: Frame, rows: Any = slice(None)) -> Any:
    return np.column_stack([apply_woe(b, frame.columns[b.name][rows]) for b in binned])


def _subset(frame: Frame, rows: npt.NDArray[np.intp]) -> Frame:
    return dataclasses.replace(
        frame,
        columns={name: column[rows] for name, column in frame.columns.items()},
        target=frame.target[rows],
    )


def fit_scorecard(
    frame: Frame,
    characteristics: Sequence[str],
    *,
    scaling: Scaling,
    purpose: str,
    min_iv: float = MIN_IV,
    progress: Callable[[int], None] | None = None,
) -> tuple[Scorecard, list[Binned]]:
    """Bin every characteristic, keep the informative ones, fit and scale.

    :param progress: called with the number of characteristics binned so far.
    :return: the scorecard, and every characteristic binned (those left out included).
    :raises UnprocessableError: when no characteristic reaches ``min_iv``.
    """
    every: list[Binned] = []
    for done, name in enumerate(characteristics, start=1):
        every.append(fit_characteristic(name, frame.kinds[name], frame.columns[name], frame.target))
        if progress is not None:
            progress(done)
    kept = [b for b in every if b.iv >= min_iv]
    if not kept:
        detail = f"no characteristic has an information value of at least {min_iv}"
        raise UnprocessableError(detail, errors=[{"pointer": "/min_iv", "detail": detail}])
    coefficients, intercept = _logistic(_woe_matrix(kept, frame), frame.target)
    card = Scorecard(tuple(kept), tuple(coefficients), intercept, scaling, purpose)
    return card, every


def discrimination(target: npt.NDArray[Any], score: npt.NDArray[np.float64]) -> dict[str, float]:
    """AUC, Gini and KS of a score against the target (a higher score, likelier event)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    auc = float(roc_auc_score(target, score))
    fpr, tpr, _ = roc_curve(target, score)
    return {"auc": auc, "gini": 2 * auc - 1, "ks": float(np.max(tpr - fpr))}


def cross_validate(
    frame: Frame,
    characteristics: Sequence[str],
    *,
    min_iv: float = MIN_IV,
    folds: int = FOLDS,
    progress: Callable[[int], None] | None = None,
) -> list[float]:
    """The held-out AUC of each of ``folds`` stratified folds, binning and fitting anew in each."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    aucs: list[float] = []
    for fold, (train_rows, test_rows) in enumerate(
        splitter.split(np.zeros(frame.rows), frame.target), start=1
    ):
        part = _subset(frame, train_rows)
        held = _subset(frame, test_rows)
        try:
            card, _ = fit_scorecard(
                part, characteristics, scaling=Scaling(), purpose="propensity", min_iv=min_iv
            )
        except UnprocessableError:
            aucs.append(0.5)
        else:
            # "propensity" points grow with the event's odds: the score ranks events first.
            aucs.append(discrimination(held.target, card.score(held))["auc"])
        if progress is not None:
            progress(fold)
    return aucs


def train(
    frame: Frame,
    *,
    name: str,
    purpose: str,
    characteristics: Sequence[str] | None = None,
    scaling: Scaling | None = None,
    min_iv: float = MIN_IV,
    folds: int = FOLDS,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train a scorecard on ``frame``: its registry document and the job's report.

    :param progress: called with a percentage (0 to 100) and the stage.
    """
    report_progress: Progress = progress or (lambda _p, _s: None)
    chosen = list(characteristics or frame.kinds)
    scaling = scaling or Scaling()
    count = len(chosen)
    # Binning on all the data is a sixth of the work, and each fold another sixth.
    share = 90 / (folds + 1) if folds else 90
    report_progress(5, "binning")
    card, every = fit_scorecard(
        frame,
        chosen,
        scaling=scaling,
        purpose=purpose,
        min_iv=min_iv,
        progress=lambda done: report_progress(5 + int(share * done / count), "binning"),
    )
    score = card.score(frame)
    ranked = score if purpose == "propensity" else -score
    metrics = discrimination(frame.target, ranked)
    cv: list[float] = []
    if folds:
        report_progress(5 + int(share), "cross-validating")
        cv = cross_validate(
            frame,
            chosen,
            min_iv=min_iv,
            folds=folds,
            progress=lambda fold: report_progress(5 + int(share * (fold + 1)), "cross-validating"),
        )
    coefficient = {b.name: c for b, c in zip(card.binned, card.coefficients, strict=True)}
    report = {
        "rows": frame.rows,
        "events": frame.events,
        "event_rate": round(frame.events / frame.rows, 6),
        "auc": round(metrics["auc"], 6),
        "gini": round(metrics["gini"], 6),
        "ks": round(metrics["ks"], 6),
        "cv_auc": round(float(np.mean(cv)), 6) if cv else None,
        "cv_folds": [round(a, 6) for a in cv],
        "intercept": round(card.intercept, 6),
        "scaling": {**scaling.as_json(), "factor": round(scaling.factor, 4)}
        | {"offset": round(scaling.offset, 4)},
        "min_iv": min_iv,
        "characteristics": [
            {
                "name": b.name,
                "kind": b.kind,
                "iv": round(b.iv, 6),
                "selected": b.name in coefficient,
                "coefficient": (round(coefficient[b.name], 6) if b.name in coefficient else None),
                "bins": b.table(),
            }
            for b in every
        ],
    }
    document = card.document(name)
    document["baseline"] = baseline(document, frame)
    return document, report


def baseline(document: Mapping[str, Any], frame: Frame) -> dict[str, Any]:
    """The training population as monitoring reads it: score deciles and bin-label shares,
    computed by the registry's own engine so that they match what score records carry."""
    from .scorecard import compile_scorecard

    compiled = compile_scorecard(document)
    names = compiled.names
    columns = [frame.columns[name] for name in names]
    records = [
        {name: _plain(column[i]) for name, column in zip(names, columns, strict=True)}
        for i in range(frame.rows)
    ]
    evaluation = compiled.evaluate(records, missing="bin")
    scores = evaluation.scores.astype(np.float64)
    edges = sorted({float(e) for e in np.quantile(scores, np.linspace(0.1, 0.9, 9))})
    counts = np.bincount(np.searchsorted(edges, scores, side="right"), minlength=len(edges) + 1)
    characteristics: dict[str, dict[str, float]] = {}
    for k, characteristic in enumerate(compiled.characteristics):
        labels, label_counts = np.unique(
            characteristic.labels[evaluation.bins[:, k]].astype(str), return_counts=True
        )
        characteristics[characteristic.name] = {
            str(label): round(int(count) / frame.rows, 6)
            for label, count in zip(labels, label_counts, strict=True)
        }
    return {
        "score": {"edges": edges, "shares": [round(int(c) / frame.rows, 6) for c in counts]},
        "characteristics": characteristics,
    }


def _plain(value: Any) -> Any:
    # NaN is how a frame keeps a missing number; the engine expects None.
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    return value


# -- jobs ----------------------------------------------------------------------------------


def create_job(db: Database, tenant_id: str, body: Mapping[str, Any]) -> TrainingJob:
    """Check the request against its data set and record a queued job (committed at once).

    :raises NotFoundError: when the data set is not the tenant's.
    :raises UnprocessableError: when a characteristic asked for is not in the data set.
    """
    with db.transaction(tenant_id=tenant_id) as session:
        dataset = datasets.get_dataset(session, body["dataset_id"])
        known = {column["name"] for column in dataset.columns}
        for position, name in enumerate(body.get("characteristics") or ()):
            if name not in known:
                detail = f"{name!r} is not a characteristic of data set {dataset.id}"
                raise UnprocessableError(
                    detail, errors=[{"pointer": f"/characteristics/{position}", "detail": detail}]
                )
        options = {
            key: body[key]
            for key in ("characteristics", "scaling", "min_iv", "folds")
            if body.get(key) is not None
        }
        job = TrainingJob(
            dataset_id=dataset.id,
            name=body["name"],
            purpose=body["purpose"],
            options=options,
            status="queued",
            progress=0,
            stage="queued",
            errors=[],
        )
        session.add(job)
    return job


def _update(db: Database, tenant_id: str, job_id: str, **values: Any) -> None:
    with db.transaction(tenant_id=tenant_id) as session:
        session.execute(update(TrainingJob).where(TrainingJob.id == job_id).values(**values))


def _save_draft(session: Session, name: str, document: dict[str, Any]) -> str:
    """Save the document as the next draft version of model ``name`` in the registry; its id.

    The registry validates it as any uploaded document (a fault there fails the job).
    """
    from .registry import create_model

    return create_model(
        session, name=name, document=document, description=document.get("description")
    ).id


def run_job(db: Database, tenant_id: str, job_id: str) -> None:
    """Train as the job says, recording progress, then the draft model and the report.

    Any failure ends the job ``failed`` with its errors (a validation problem's own errors,
    or "internal error" with the details in the log); nothing else is written then.
    """
    try:
        with db.session(tenant_id=tenant_id) as session:
            job = session.get_one(TrainingJob, job_id)
            dataset = session.get_one(TrainingDataset, job.dataset_id)
            frame = datasets.load_frame(dataset)
            options, name, purpose = dict(job.options), job.name, job.purpose
        _update(db, tenant_id, job_id, status="running", stage="binning", started_at=utcnow())
        last = [0]

        def progress(percent: int, stage: str) -> None:
            if percent > last[0]:
                last[0] = percent
                _update(db, tenant_id, job_id, progress=min(percent, 99), stage=stage)

        document, report = train(
            frame,
            name=name,
            purpose=purpose,
            characteristics=options.get("characteristics"),
            scaling=Scaling(**options["scaling"]) if "scaling" in options else None,
            min_iv=options.get("min_iv", MIN_IV),
            folds=options.get("folds", FOLDS),
            progress=progress,
        )
        with db.transaction(tenant_id=tenant_id) as session:
            model_id = _save_draft(session, name, document)
            session.execute(
                update(TrainingJob)
                .where(TrainingJob.id == job_id)
                .values(
                    status="succeeded",
                    progress=100,
                    stage="done",
                    report=report,
                    document=document,
                    model_id=model_id,
                    finished_at=utcnow(),
                )
            )
    except UnprocessableError as exc:
        _update(
            db,
            tenant_id,
            job_id,
            status="failed",
            stage="failed",
            errors=[dict(e) for e in exc.errors] or [{"detail": exc.detail}],
            finished_at=utcnow(),
        )
    except Exception:
        logger.exception("training job %s failed", job_id)
        _update(
            db,
            tenant_id,
            job_id,
            status="failed",
            stage="failed",
            errors=[{"detail": "internal error; see the server log"}],
            finished_at=utcnow(),
        )


def get_job(session: Session, job_id: str) -> TrainingJob:
    """One of the tenant's training jobs. :raises NotFoundError: when there is none."""
    job = session.scalar(select(TrainingJob).where(TrainingJob.id == job_id))
    if job is None:
        raise NotFoundError(f"no training job {job_id}")
    return job


def list_jobs(session: Session, *, limit: int, cursor: str | None) -> Page[TrainingJob]:
    """The tenant's training jobs, oldest first, one page."""
    return paginate(
        session,
        select(TrainingJob),
        keys=(TrainingJob.created_at, TrainingJob.id),
        limit=limit,
        cursor=cursor,
    )
