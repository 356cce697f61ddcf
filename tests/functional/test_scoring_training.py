"""Training scorecards through HTTP: labelled data sets validated all or nothing, a
background job with progress, its report, the draft model it makes, and the wall between
tenants; on the German credit data, the literature's scorecard level of AUC."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from almacen.modules.scoring import datasets
from tests.common.actors import TenantHandle, assert_problem

pytestmark = pytest.mark.modules("scoring")

BASE = "/v1/scoring"
GERMAN = Path(__file__).parent.parent / "data" / "german_credit.csv"


def synthetic(rows: int = 600, *, seed: int = 1) -> str:
    """A small labelled CSV: ``income`` and ``region`` drive the event, ``noise`` does not."""
    rng = np.random.default_rng(seed)
    income = rng.normal(50, 15, size=rows)
    region = rng.choice(["north", "south", "east"], size=rows)
    noise = rng.normal(size=rows)
    logit = -0.08 * (income - 50) + np.where(region == "south", 1.0, -0.3) - 0.8
    target = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    lines = ["income,region,noise,defaulted"]
    for i in range(rows):
        cell = "" if i % 50 == 0 else f"{income[i]:.2f}"  # some missing incomes
        lines.append(f"{cell},{region[i]},{noise[i]:.3f},{target[i]}")
    return "\n".join(lines) + "\n"


def upload(tenant: TenantHandle, data: str, **body: Any) -> Any:
    payload = {"name": "loans", "format": "csv", "data": data, "target": "defaulted", **body}
    return tenant.post(f"{BASE}/datasets", json=payload)


def train(tenant: TenantHandle, dataset_id: str, **body: Any) -> Any:
    payload = {"dataset_id": dataset_id, "name": "risk-card", "purpose": "risk", **body}
    return tenant.post(f"{BASE}/training-jobs", json=payload)


def wait_for(tenant: TenantHandle, job_id: str, *, seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    seen: list[int] = []
    while time.monotonic() < deadline:
        response = tenant.get(f"{BASE}/training-jobs/{job_id}")
        assert response.status_code == 200, response.text
        job = dict(response.json())
        seen.append(job["progress"])
        if job["status"] in ("succeeded", "failed"):
            assert seen == sorted(seen), "progress never goes back"
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['status']} after {seconds} s")


def dataset_count(tenant: TenantHandle) -> int:
    response = tenant.get(f"{BASE}/datasets")
    assert response.status_code == 200, response.text
    return len(response.json()["items"])


def test_upload_then_train_makes_a_draft_model_with_a_report(tenant: TenantHandle) -> None:
    created = upload(tenant, synthetic())
    assert created.status_code == 201, created.text
    dataset = created.json()
    assert dataset["rows"] == 600
    assert dataset["event"] == "1"
    assert {c["name"]: c["kind"] for c in dataset["columns"]} == {
        "income": "numeric",
        "region": "categorical",
        "noise": "numeric",
    }
    assert tenant.get(f"{BASE}/datasets/{dataset['id']}").json() == dataset
    assert [d["id"] for d in tenant.get(f"{BASE}/datasets").json()["items"]] == [dataset["id"]]

    queued = train(tenant, dataset["id"], folds=3)
    assert queued.status_code == 202, queued.text
    assert queued.headers["Location"].endswith(f"/training-jobs/{queued.json()['id']}")
    assert queued.json()["status"] in ("queued", "running", "succeeded")
    job = wait_for(tenant, queued.json()["id"])
    assert job["status"] == "succeeded", job["errors"]
    assert job["progress"] == 100
    report = job["report"]
    assert 0.6 < report["auc"] <= 1
    assert report["gini"] == pytest.approx(2 * report["auc"] - 1, abs=1e-5)
    assert 0 < report["ks"] < 1
    assert len(report["cv_folds"]) == 3
    assert report["cv_auc"] == pytest.approx(np.mean(report["cv_folds"]), abs=1e-5)
    assert report["scaling"]["factor"] == pytest.approx(28.8539)
    by_name = {c["name"]: c for c in report["characteristics"]}
    assert by_name["income"]["selected"]
    assert by_name["region"]["selected"]
    assert by_name["noise"]["iv"] < by_name["income"]["iv"]
    income_bins = by_name["income"]["bins"]
    assert income_bins[-1]["bin"] == "missing"
    assert income_bins[-1]["count"] == 12
    assert sum(b["count"] for b in income_bins) == 600
    assert by_name["income"]["iv"] == pytest.approx(sum(b["iv"] for b in income_bins), abs=1e-5)

    model = tenant.get(f"{BASE}/models/{job['model_id']}")
    assert model.status_code == 200, model.text
    assert model.json()["status"] == "draft"
    assert model.json()["document"]["type"] == "scorecard"
    selected = [c["name"] for c in report["characteristics"] if c["selected"]]
    assert [c["name"] for c in model.json()["document"]["characteristics"]] == selected
    assert model.json()["document"] == job["document"]
    listed = tenant.get(f"{BASE}/training-jobs").json()["items"]
    assert [j["id"] for j in listed] == [job["id"]]


def test_json_lines_with_labels(tenant: TenantHandle) -> None:
    lines = "\n".join(
        f'{{"score": {i % 7}, "outcome": "{"bad" if i % 3 == 0 else "good"}"}}' for i in range(30)
    )
    response = upload(tenant, lines, format="jsonl", target="outcome", event="bad")
    assert response.status_code == 201, response.text
    assert response.json()["events"] == 10


@pytest.mark.parametrize(
    ("data", "extra", "pointer", "row"),
    [
        ("income,region\n1,a\n", {}, "/target", None),
        ("income,defaulted\n1,0\n2,0\n", {}, "/data", None),
        ("income,defaulted\n1,0\nlots,1\n", {"numeric": ["income"]}, "/data", 2),
        ("income,defaulted\n", {}, "/data", None),
        ("income,defaulted\n1,yes\n2,no\n", {}, "/event", None),
    ],
    ids=["no-target", "one-class", "not-numeric", "empty", "labels-without-event"],
)
def test_bad_data_sets_are_problems_and_nothing_is_stored(
    tenant: TenantHandle, data: str, extra: dict[str, Any], pointer: str, row: int | None
) -> None:
    body = assert_problem(upload(tenant, data, **extra), 422)
    assert body["errors"][0]["pointer"] == pointer
    assert body["errors"][0].get("row") == row
    assert dataset_count(tenant) == 0


def test_too_many_rows(tenant: TenantHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets, "MAX_ROWS", 100)
    body = assert_problem(upload(tenant, synthetic(101)), 422)
    assert "at most 100" in body["detail"]
    assert dataset_count(tenant) == 0


def test_an_empty_body_is_a_bad_request(tenant: TenantHandle) -> None:
    assert_problem(upload(tenant, ""), 400)
    assert dataset_count(tenant) == 0


def test_training_problems(tenant: TenantHandle) -> None:
    dataset = upload(tenant, synthetic(200)).json()
    body = assert_problem(train(tenant, dataset["id"], characteristics=["salary"]), 422)
    assert body["errors"][0]["pointer"] == "/characteristics/0"
    assert_problem(train(tenant, "0" * 32), 404)
    assert_problem(train(tenant, dataset["id"], purpose="luck"), 400)
    assert tenant.get(f"{BASE}/training-jobs").json()["items"] == []
    # nothing informative enough: the job fails, saying why
    job = wait_for(tenant, train(tenant, dataset["id"], min_iv=10, folds=2).json()["id"])
    assert job["status"] == "failed"
    assert job["errors"][0]["pointer"] == "/min_iv"
    assert job["model_id"] is None


def test_tenants_never_see_each_others_data_sets_or_jobs(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    dataset = upload(tenant, synthetic(200)).json()
    job = wait_for(tenant, train(tenant, dataset["id"], folds=2).json()["id"])
    assert_problem(other_tenant.get(f"{BASE}/datasets/{dataset['id']}"), 404)
    assert_problem(other_tenant.get(f"{BASE}/training-jobs/{job['id']}"), 404)
    assert_problem(train(other_tenant, dataset["id"]), 404)
    assert other_tenant.get(f"{BASE}/datasets").json()["items"] == []
    assert other_tenant.get(f"{BASE}/training-jobs").json()["items"] == []


@pytest.mark.once
def test_german_credit_reaches_the_literature_scorecard_level(tenant: TenantHandle) -> None:
    created = upload(
        tenant, GERMAN.read_text(encoding="utf-8"), target="creditability", event="bad"
    )
    assert created.status_code == 201, created.text
    assert created.json()["rows"] == 1_000
    assert created.json()["events"] == 300
    job = wait_for(tenant, train(tenant, created.json()["id"], name="german").json()["id"])
    assert job["status"] == "succeeded", job["errors"]
    report = job["report"]
    assert len(report["cv_folds"]) == 5
    assert report["cv_auc"] >= 0.78, report["cv_folds"]
    assert report["auc"] >= report["cv_auc"]
    ivs = {c["name"]: c["iv"] for c in report["characteristics"]}
    # the checking account is the strongest characteristic of this data set
    assert max(ivs, key=ivs.__getitem__) == "status_of_existing_checking_account"
    model = tenant.get(f"{BASE}/models/{job['model_id']}").json()
    assert model["name"] == "german"
    assert model["status"] == "draft"


def rows_of(data: str, *, income_shift: float = 0.0) -> list[dict[str, Any]]:
    """The records of a :func:`synthetic` CSV, as ``/score`` takes them."""
    records = []
    for line in data.strip().splitlines()[1:]:
        income, region, noise, _ = line.split(",")
        features: dict[str, Any] = {"region": region, "noise": float(noise)}
        if income:
            features["income"] = float(income) + income_shift
        records.append({"features": features})
    return records


def test_a_trained_model_is_monitored_against_its_training_baseline(
    tenant: TenantHandle,
) -> None:
    data = synthetic(seed=3)
    dataset = upload(tenant, data).json()
    job = wait_for(tenant, train(tenant, dataset["id"], folds=2).json()["id"])
    assert job["status"] == "succeeded", job["errors"]
    model_id = job["model_id"]
    baseline = tenant.get(f"{BASE}/models/{model_id}").json()["document"]["baseline"]
    assert sum(baseline["score"]["shares"]) == pytest.approx(1, abs=1e-4)
    assert set(baseline["characteristics"]) == {
        c["name"] for c in job["document"]["characteristics"]
    }

    # The training population again: no drift.
    same = tenant.post(f"{BASE}/score", json={"model_id": model_id, "records": rows_of(data)})
    assert same.status_code == 200, same.text
    steady = tenant.post(f"{BASE}/models/{model_id}/monitoring", json={})
    assert steady.status_code == 201, steady.text
    assert steady.json()["baseline"] == "model"
    assert Decimal(steady.json()["psi"]) < Decimal("0.01")
    assert steady.json()["drifted"] is False

    # A population 40 points of income richer lands in other bins: drift, and its event.
    richer = rows_of(data, income_shift=40.0)
    assert (
        tenant.post(f"{BASE}/score", json={"model_id": model_id, "records": richer * 3}).status_code
        == 200
    )
    drifted = tenant.post(f"{BASE}/models/{model_id}/monitoring", json={}).json()
    assert Decimal(drifted["psi"]) > Decimal("0.25") and drifted["drifted"] is True
    events = tenant.get("/v1/events", params={"type": "scoring.drift_detected"}).json()["items"]
    assert [e["payload"]["model_id"] for e in events] == [model_id]
