"""Monitoring through HTTP: PSI and CSI runs of a model against its training baseline or an
earlier window, ``scoring.drift_detected`` past the tenant's threshold, and bad input.

Score records are written straight into the tables (as the scoring engine writes them at
scoring time), so these tests fix exact distributions and do not depend on the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest

from almacen.gateway.app import gateway_of
from almacen.modules.scoring.model_tables import ScoreRecord, ScoringModel
from tests.common.actors import Admin, TenantHandle, assert_problem

T0 = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
BASELINE = {
    "score": {"edges": [500, 600, 700], "shares": [0.25, 0.25, 0.25, 0.25]},
    "characteristics": {"age": {"young": 0.5, "old": 0.5}},
}


def new_model(app: Any, tenant: TenantHandle, *, baseline: Any = BASELINE) -> str:
    document: dict[str, Any] = {"type": "scorecard", "purpose": "risk"}
    if baseline is not None:
        document["baseline"] = baseline
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        model = ScoringModel(
            name="risk", version=1, purpose="risk", type="scorecard", document=document
        )
        session.add(model)
        session.flush()
        return model.id


def record(
    app: Any, tenant: TenantHandle, model_id: str, scores: Sequence[tuple[int, str]], day: int
) -> None:
    """Score records of (score, age bin) on day ``day`` of October 2026."""
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        for n, (score, age) in enumerate(scores):
            session.add(
                ScoreRecord(
                    model_id=model_id,
                    score=score,
                    probability=0.1,
                    bins={"age": age},
                    scored_at=T0 + dt.timedelta(days=day - 1, minutes=n),
                )
            )


def window(first_day: int, last_day: int) -> dict[str, str]:
    return {
        "window_from": (T0 + dt.timedelta(days=first_day - 1)).isoformat(),
        "window_to": (T0 + dt.timedelta(days=last_day)).isoformat(),
    }


# 1 score below 500, 2 in [500, 600), 3 in [600, 700), 4 from 700: shares .1 .2 .3 .4;
# 7 young and 3 old: shares .7 .3
RECENT = [(450, "young"), (520, "young"), (580, "young"), (610, "young"), (650, "young")]
RECENT += [(690, "young"), (700, "young"), (720, "old"), (800, "old"), (900, "old")]


def drift_events(tenant: TenantHandle) -> list[dict[str, Any]]:
    response = tenant.get("/v1/events", params={"type": "scoring.drift_detected"})
    return list(response.json()["items"])


@pytest.mark.modules("scoring")
def test_psi_and_csi_against_the_training_baseline(app: Any, tenant: TenantHandle) -> None:
    model_id = new_model(app, tenant)
    record(app, tenant, model_id, RECENT, day=10)
    record(app, tenant, model_id, [(100, "old")] * 5, day=20)  # outside the window
    response = tenant.post(f"/v1/scoring/models/{model_id}/monitoring", json=window(9, 11))
    assert response.status_code == 201, response.text
    run = response.json()
    # Σ (a − e)·ln(a/e) with e = .25 each and a = .1 .2 .3 .4 (see tests/unit/scoring/test_psi.py):
    # 0.137444 + 0.011157 + 0.009116 + 0.070501 = 0.228217 (exactly 0.2282174…)
    assert run["psi"] == "0.228217"
    assert run["threshold"] == "0.250000" and run["drifted"] is False
    assert run["baseline"] == "model" and run["records"] == 10
    assert [b["actual"] for b in run["score_bins"]] == [
        "0.100000",
        "0.200000",
        "0.300000",
        "0.400000",
    ]
    assert run["score_bins"][0]["bin"] == "[-inf, 500)"
    # CSI of age: (0.7 − 0.5)·ln(0.7/0.5) + (0.3 − 0.5)·ln(0.3/0.5)
    #           = 0.2·0.336472 + (−0.2)·(−0.510826) = 0.067294 + 0.102165 = 0.169460
    [age] = run["characteristics"]
    assert age["name"] == "age" and age["csi"] == "0.169460"
    assert drift_events(tenant) == []

    runs = tenant.get(f"/v1/scoring/models/{model_id}/monitoring").json()["items"]
    assert [r["id"] for r in runs] == [run["id"]]


@pytest.mark.modules("scoring")
def test_drift_past_the_threshold_is_announced(
    app: Any, admin: Admin, tenant: TenantHandle
) -> None:
    assert admin.subscribe(tenant.id, "scoring", {"drift_threshold": "0.20"}).status_code == 200
    model_id = new_model(app, tenant)
    record(app, tenant, model_id, RECENT, day=10)
    run = tenant.post(f"/v1/scoring/models/{model_id}/monitoring", json=window(10, 10)).json()
    assert run["drifted"] is True and run["threshold"] == "0.200000"
    [event] = drift_events(tenant)
    assert event["payload"]["model_id"] == model_id
    assert event["payload"]["psi"] == "0.228217"
    assert event["subject"] == {"type": "model", "id": model_id}


@pytest.mark.modules("scoring")
def test_an_earlier_window_is_the_baseline_when_the_model_has_none(
    app: Any, tenant: TenantHandle
) -> None:
    model_id = new_model(app, tenant, baseline=None)
    same = [(s, "young") for s in range(400, 900, 5)]
    record(app, tenant, model_id, same, day=1)
    record(app, tenant, model_id, same, day=15)
    body = {**window(15, 15), "baseline_from": window(1, 1)["window_from"]}
    body["baseline_to"] = window(1, 1)["window_to"]
    run = tenant.post(f"/v1/scoring/models/{model_id}/monitoring", json=body).json()
    assert run["baseline"] == "window" and run["psi"] == "0.000000"
    assert len(run["score_bins"]) == 10  # deciles of the baseline window
    # without a baseline window, a model without a baseline cannot be monitored
    problem = assert_problem(
        tenant.post(f"/v1/scoring/models/{model_id}/monitoring", json=window(15, 15)), 422
    )
    assert problem["errors"][0]["pointer"] == "/baseline_from"


@pytest.mark.modules("scoring")
def test_bad_input_is_refused_and_nothing_stored(
    app: Any, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    model_id = new_model(app, tenant)
    record(app, tenant, model_id, RECENT, day=10)
    path = f"/v1/scoring/models/{model_id}/monitoring"
    # an empty window
    problem = assert_problem(tenant.post(path, json=window(20, 25)), 422)
    assert problem["errors"][0]["pointer"] == "/window_from"
    # a window that ends before it starts
    backwards = {"window_from": window(5, 5)["window_to"], "window_to": window(5, 5)["window_from"]}
    assert_problem(tenant.post(path, json=backwards), 422)
    # half a baseline window
    half = {**window(10, 10), "baseline_from": window(1, 1)["window_from"]}
    assert_problem(tenant.post(path, json=half), 422)
    # an unknown model
    assert_problem(tenant.post(f"/v1/scoring/models/{'0' * 32}/monitoring", json={}), 404)
    assert_problem(tenant.get(f"/v1/scoring/models/{'0' * 32}/monitoring"), 404)
    # another tenant's model is unknown to B
    assert_problem(other_tenant.post(path, json=window(9, 11)), 404)
    assert_problem(other_tenant.get(path), 404)
    assert tenant.get(path).json()["items"] == []
