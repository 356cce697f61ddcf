"""Training a scorecard on 100,000 rows × 20 characteristics, in process (goal: under 60 s).

``measure_training()`` builds a seeded synthetic data set (14 numeric characteristics, 6
categorical; the event's log-odds a known function of ten of them, plus noise), parses it from
CSV as an upload would be, then trains exactly what a training job trains: optimal binning of
every characteristic, logistic regression on WoE, scaling, and the 5-fold cross-validation
that bins and fits again per fold. The baseline, measured in the same run on the same rows,
is a plain scikit-learn ``LogisticRegression`` fitted once on the raw numeric matrix (the
categorical columns one-hot encoded): what a model without binning costs. ``bench/scoring.py``
calls it; ``python bench/scoring_training.py`` runs it alone.
"""

from __future__ import annotations

import csv
import io
import time
import warnings

import numpy as np

from almacen.modules.scoring import datasets, training

ROWS = 100_000
NUMERIC = 14
CATEGORICAL = 6
GOAL_SECONDS = 60.0


def synthetic_csv(rows: int = ROWS, *, seed: int = 7) -> str:
    """A labelled CSV document: ``x0..x13`` numeric, ``c0..c5`` categorical, ``target`` 0/1."""
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(rows, NUMERIC))
    levels = np.array(list("ABCDEFGH"))
    codes = rng.integers(0, len(levels), size=(rows, CATEGORICAL))
    effect = rng.normal(scale=0.4, size=len(levels))
    logit = (
        -1.2
        + 0.8 * numeric[:, 0]
        - 0.6 * numeric[:, 1]
        + 0.5 * numeric[:, 2] ** 2
        - 0.4 * np.abs(numeric[:, 3])
        + 0.3 * numeric[:, 4]
        + effect[codes[:, 0]]
        + effect[codes[:, 1]] * 0.5
    )
    target = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    missing = rng.random(rows) < 0.02  # some missing values in x5
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [*(f"x{i}" for i in range(NUMERIC)), *(f"c{i}" for i in range(CATEGORICAL)), "target"]
    )
    for r in range(rows):
        cells = [f"{v:.4f}" for v in numeric[r]]
        if missing[r]:
            cells[5] = ""
        writer.writerow([*cells, *levels[codes[r]], target[r]])
    return out.getvalue()


def _baseline(frame: datasets.Frame) -> float:
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    blocks = []
    for name, kind in frame.kinds.items():
        column = frame.columns[name]
        if kind == "numeric":
            blocks.append(np.nan_to_num(column.astype(np.float64))[:, None])
        else:
            values = np.asarray([str(v) for v in column])
            blocks.append((values[:, None] == np.unique(values)[None, :]).astype(np.float64))
    matrix = np.hstack(blocks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LogisticRegression(max_iter=1000).fit(matrix, frame.target)
    return time.perf_counter() - started


def measure_training(rows: int = ROWS) -> str:
    """Train on ``rows`` synthetic rows × 20 characteristics; a printable line of results."""
    document = synthetic_csv(rows)
    started = time.perf_counter()
    frame = datasets.parse(document, "csv", target="target")
    parsed = time.perf_counter() - started
    fitted = time.perf_counter()
    _, report = training.train(frame, name="bench", purpose="risk")
    trained = time.perf_counter() - fitted
    total = parsed + trained
    baseline = _baseline(frame)
    verdict = "meets" if total < GOAL_SECONDS else "MISSES"
    return (
        f"training {rows:,} rows × {NUMERIC + CATEGORICAL} characteristics: {total:.1f} s "
        f"(parse {parsed:.1f} s, bin+fit+5-fold CV {trained:.1f} s; {verdict} the "
        f"{GOAL_SECONDS:.0f} s goal); AUC {report['auc']:.3f}, CV AUC {report['cv_auc']:.3f}; "
        f"baseline plain LogisticRegression on the raw matrix {baseline:.1f} s "
        f"(×{total / baseline:.0f})"
    )


if __name__ == "__main__":
    print(measure_training())
