"""The scorecard model type: scaling, hand-computed points, validation, missing values."""

from __future__ import annotations

import math
from typing import Any

import pytest

from almacen.modules.scoring.model_types import FeatureError, ModelType
from almacen.modules.scoring.scorecard import SCORECARD, scaling


def card(**fields: Any) -> dict[str, Any]:
    """600 points at 50:1, PDO 20; two characteristics; bands A-C."""
    return {
        "type": "scorecard",
        "purpose": "risk",
        "base_points": 400,
        "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20},
        "characteristics": [
            {
                "name": "days_past_due",
                "kind": "numeric",
                "bins": [
                    {"upper": 30, "points": 120},
                    {"lower": 30, "upper": 90, "points": 60},
                    {"lower": 90, "points": 10},
                ],
                "missing_points": 40,
            },
            {
                "name": "bucket",
                "kind": "categorical",
                "bins": [
                    {"categories": ["current"], "points": 80},
                    {"categories": ["1-30", "31-60"], "points": 30},
                ],
                "reason_code": "B01",
            },
        ],
        "bands": [
            {"grade": "A", "min_score": 560},
            {"grade": "B", "min_score": 480},
            {"grade": "C"},
        ],
        **fields,
    }


def test_scaling_matches_the_acceptance_oracle() -> None:
    factor, offset = scaling(600, 50, 20)
    assert round(factor, 4) == 28.8539  # 20 / ln 2
    assert round(offset, 2) == 487.12  # 600 - 28.8539 * ln 50


def test_the_builtin_type_meets_the_protocol() -> None:
    assert isinstance(SCORECARD, ModelType)
    assert SCORECARD.validate(card()) == []
    assert SCORECARD.features(card()) == ["days_past_due", "bucket"]


def test_hand_built_points_bands_and_reasons() -> None:
    records = [
        # 400 + 120 ([-inf,30)) + 80 (current) = 600 → A, nothing lost
        {"days_past_due": 0, "bucket": "current"},
        # 400 + 60 ([30,90): 30 is the lower edge, included) + 30 = 490 → B
        # lost: dpd 120-60 = 60, bucket 80-30 = 50 → days_past_due first
        {"days_past_due": 30, "bucket": "31-60"},
        # 400 + 10 (90 is [90, inf)) + 30 = 440 → C
        {"days_past_due": "90", "bucket": "1-30"},
    ]
    results = SCORECARD.score(card(), records, missing="bin")
    assert [r["score"] for r in results] == [600, 490, 440]
    assert [r["band"] for r in results] == ["A", "B", "C"]
    assert [r["reasons"] for r in results] == [
        [],
        ["days_past_due", "B01"],
        ["days_past_due", "B01"],
    ]
    assert results[1]["bins"] == {"days_past_due": "[30, 90)", "bucket": "1-30,31-60"}


def test_probability_follows_the_odds() -> None:
    (at_base,) = SCORECARD.score(card(), [{"days_past_due": 0, "bucket": "current"}], missing="bin")
    # 600 points are odds 50:1 of good: the probability of bad is 1/51.
    assert at_base["probability"] == pytest.approx(1 / 51, rel=1e-9)
    (lower,) = SCORECARD.score(card(), [{"days_past_due": 30, "bucket": "31-60"}], missing="bin")
    factor, offset = scaling(600, 50, 20)
    odds = math.exp((490 - offset) / factor)
    assert lower["probability"] == pytest.approx(1 / (1 + odds))
    (propensity,) = SCORECARD.score(
        card(purpose="propensity"), [{"days_past_due": 0, "bucket": "current"}], missing="bin"
    )
    assert propensity["probability"] == pytest.approx(50 / 51)


def test_missing_values_score_in_the_missing_bin_or_are_rejected() -> None:
    # dpd missing → 40 points; bucket missing → its lowest points, 30: 400 + 40 + 30 = 470
    (result,) = SCORECARD.score(card(), [{}], missing="bin")
    assert result["score"] == 470
    assert result["bins"] == {"days_past_due": "missing", "bucket": "missing"}
    with pytest.raises(FeatureError) as caught:
        SCORECARD.score(card(), [{"bucket": "current"}, {}], missing="reject")
    assert [(f["index"], f["feature"]) for f in caught.value.faults] == [
        (0, "days_past_due"),
        (1, "bucket"),
        (1, "days_past_due"),
    ]


@pytest.mark.parametrize("value", ["ten", True, [1], {"x": 1}, "nan"])
def test_non_numeric_values_are_faults(value: Any) -> None:
    with pytest.raises(FeatureError) as caught:
        SCORECARD.score(
            card(),
            [
                {"days_past_due": 1, "bucket": "current"},
                {"days_past_due": value, "bucket": "current"},
            ],
            missing="bin",
        )
    assert caught.value.faults[0]["index"] == 1
    assert caught.value.faults[0]["feature"] == "days_past_due"


def test_unknown_category_uses_other_points_else_missing() -> None:
    document = card()
    (result,) = SCORECARD.score(document, [{"days_past_due": 0, "bucket": "90+"}], missing="bin")
    assert result["bins"]["bucket"] == "missing"
    document["characteristics"][1]["other_points"] = 5
    (result,) = SCORECARD.score(document, [{"days_past_due": 0, "bucket": "90+"}], missing="bin")
    assert (result["score"], result["bins"]["bucket"]) == (525, "other")


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        (
            lambda d: d["characteristics"][0]["bins"][1].update(lower=20),
            "/characteristics/0/bins/1/lower",
        ),
        (
            lambda d: d["characteristics"][0]["bins"][2].update(lower=95),
            "/characteristics/0/bins/2/lower",
        ),
        (
            lambda d: d["characteristics"][0]["bins"][0].update(upper=None),
            "/characteristics/0/bins/1/lower",
        ),
        (
            lambda d: d["characteristics"][1]["bins"][1]["categories"].append("current"),
            "/characteristics/1/bins/1/categories/2",
        ),
        (lambda d: d["characteristics"][1].update(name="days_past_due"), "/characteristics/1/name"),
        (lambda d: d["bands"][1].update(min_score=600), "/bands/1/min_score"),
        (lambda d: d["scaling"].update(pdo=0), "/scaling/pdo"),
        (
            lambda d: d["characteristics"][0]["bins"][0].update(points="many"),
            "/characteristics/0/bins/0/points",
        ),
    ],
)
def test_invalid_documents_name_the_fault(change: Any, pointer: str) -> None:
    document = card()
    change(document)
    faults = SCORECARD.validate(document)
    assert pointer in [f["pointer"] for f in faults], faults


def test_a_large_batch_is_vectorised_and_consistent() -> None:
    records = [
        {"days_past_due": i % 120, "bucket": "current" if i % 2 else "1-30"} for i in range(5000)
    ]
    results = SCORECARD.score(card(), records, missing="bin")
    expected = [
        400 + (120 if i % 120 < 30 else 60 if i % 120 < 90 else 10) + (80 if i % 2 else 30)
        for i in range(5000)
    ]
    assert [r["score"] for r in results] == expected
