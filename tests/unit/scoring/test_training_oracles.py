"""Training's arithmetic against hand-computed oracles: WoE and IV of a bin table, points
scaling, and a scorecard's points adding up to the scaled log-odds of its regression."""

from __future__ import annotations

import math

import numpy as np
import pytest

from almacen.modules.scoring.binning import (
    Bin,
    Binned,
    apply_woe,
    assign,
    bin_table,
    fit_characteristic,
    woe_iv,
)
from almacen.modules.scoring.datasets import parse
from almacen.modules.scoring.training import Scaling, discrimination, fit_scorecard


def test_woe_and_iv_of_a_hand_computed_bin_table() -> None:
    # Three bins; events (bad) 10, 20, 70 of E = 100; non-events 150, 100, 50 of N = 300.
    # WoE = ln((n/N) / (e/E)): ln(0.5/0.1), ln(0.3333/0.2), ln(0.1667/0.7).
    woes, ivs = woe_iv([10, 20, 70], [150, 100, 50])
    expected = [math.log(5.0), math.log(1 / 3 / 0.2), math.log(1 / 6 / 0.7)]
    assert woes == pytest.approx(expected)
    assert woes == pytest.approx([1.609438, 0.510826, -1.435085], abs=1e-6)
    # IV = Σ (n/N − e/E)·WoE = 0.4·1.6094 + 0.1333·0.5108 + 0.5333·1.4351
    assert ivs == pytest.approx([0.643775, 0.068110, 0.765379], abs=1e-6)
    assert sum(ivs) == pytest.approx(1.477264, abs=1e-6)


def test_an_empty_bin_says_nothing_and_a_pure_bin_is_smoothed() -> None:
    woes, ivs = woe_iv([0, 5, 5], [0, 0, 10])
    assert woes[0] == 0.0
    assert ivs[0] == 0.0
    # the pure bin gets 0.5 added to both counts: ln((0.5/10) / (5.5/10))
    assert woes[1] == pytest.approx(math.log(0.05 / 0.55))
    assert math.isfinite(woes[2])


def test_scaling_600_at_50_to_1_with_pdo_20() -> None:
    scaling = Scaling(base_score=600, base_odds=50, pdo=20)
    assert scaling.factor == pytest.approx(28.8539, abs=1e-4)
    assert scaling.offset == pytest.approx(487.12, abs=5e-3)
    # doubling the odds adds PDO points
    score = lambda odds: scaling.offset + scaling.factor * math.log(odds)  # noqa: E731
    assert score(50) == pytest.approx(600)
    assert score(100) == pytest.approx(620)


def test_numeric_bins_are_half_open_and_missing_has_its_own() -> None:
    draft = Binned(
        "x",
        "numeric",
        bins=(Bin(None, 10.0), Bin(10.0, 20.0), Bin(20.0, None)),
        missing=Bin(),
        splits=(10.0, 20.0),
    )
    index = assign(draft, np.array([-5, 9.99, 10, 19.99, 20, 1e9, np.nan]))
    assert index.tolist() == [0, 0, 1, 1, 2, 2, 3]  # 3: the missing bin


def test_bin_table_counts_and_event_rates() -> None:
    groups = [(None, None, ("a",)), (None, None, ("b", "c"))]
    index = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2], dtype=np.intp)  # 2 is the missing bin
    target = np.array([1, 0, 0, 0, 1, 1, 1, 0, 1], dtype=np.int8)
    binned = bin_table("c", "categorical", index, target, groups)
    rows = binned.table()
    assert [(r["count"], r["events"], r["event_rate"]) for r in rows] == [
        (4, 1, 0.25),
        (4, 3, 0.75),
        (1, 1, 1.0),
    ]
    # unknown categories count as missing
    assert (
        apply_woe(binned, np.array(["zzz", None], dtype=object)).tolist()
        == [binned.missing.woe] * 2
    )


def test_the_points_of_a_record_add_up_to_the_scaled_log_odds() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=2_000)
    c = rng.choice(["p", "q", "r"], size=2_000)
    logit = 1.5 * x + np.where(c == "p", 1.0, -0.5) - 1
    y = (rng.random(2_000) < 1 / (1 + np.exp(-logit))).astype(int)
    text = "x,c,y\n" + "".join(f"{a:.5f},{b},{t}\n" for a, b, t in zip(x, c, y, strict=True))
    frame = parse(text, "csv", target="y")
    scaling = Scaling()
    card, _ = fit_scorecard(frame, ["x", "c"], scaling=scaling, purpose="risk")
    woe = np.column_stack([apply_woe(b, frame.columns[b.name]) for b in card.binned])
    log_odds_bad = card.intercept + woe @ np.asarray(card.coefficients)
    expected = scaling.offset - scaling.factor * log_odds_bad  # ln(good:bad odds) scaled
    assert card.score(frame) == pytest.approx(expected)
    # risk: a higher score is a lower risk, so events score lower (AUC of −score > 0.5)
    assert discrimination(frame.target, -card.score(frame))["auc"] > 0.75
    # every coefficient is negative: a higher WoE (more good payers) lowers the event's odds
    assert all(beta < 0 for beta in card.coefficients)
    document = card.document("demo")
    assert document["type"] == "scorecard"
    assert [ch["name"] for ch in document["characteristics"]] == ["x", "c"]


def test_a_characteristic_without_cut_points_is_one_bin_and_the_missing_bin() -> None:
    values = np.array([1.0, 1.0, 1.0, np.nan])
    binned = fit_characteristic("flat", "numeric", values, np.array([0, 1, 0, 1], np.int8))
    assert binned.splits == ()
    assert [row["bin"] for row in binned.table()] == ["[-inf, inf)", "missing"]
    assert [row["count"] for row in binned.table()] == [3, 1]


def test_the_registry_scores_a_trained_card_as_training_does() -> None:
    """The document is the registry's format and its conventions: same points, same order."""
    from almacen.modules.scoring.scorecard import SCORECARD

    rng = np.random.default_rng(5)
    x = rng.normal(size=1_000)
    c = rng.choice(["p", "q"], size=1_000)
    y = (rng.random(1_000) < 1 / (1 + np.exp(-(x + (c == "p") - 1)))).astype(int)
    lines = [
        f"{'' if i % 40 == 0 else f'{a:.4f}'},{b},{t}"
        for i, (a, b, t) in enumerate(zip(x, c, y, strict=True))
    ]
    frame = parse("x,c,y\n" + "\n".join(lines) + "\n", "csv", target="y")
    card, _ = fit_scorecard(frame, ["x", "c"], scaling=Scaling(), purpose="risk")
    document = card.document("demo")
    assert SCORECARD.validate(document) == []
    records = [
        {"x": None if np.isnan(a) else float(a), "c": str(b)}
        for a, b in zip(frame.columns["x"], frame.columns["c"], strict=True)
    ]
    scored = SCORECARD.score(document, records, missing="bin")
    theirs = np.asarray([r["score"] for r in scored], dtype=np.float64)
    assert np.abs(theirs - card.score(frame)).max() <= 1.0  # points to 2 places, score rounded
    assert discrimination(frame.target, -theirs)["auc"] == pytest.approx(
        discrimination(frame.target, -card.score(frame))["auc"], abs=0.01
    )
