"""``/score-jobs``: batches beyond the synchronous limit scored in the background, with the
same results as ``POST /score``, all or nothing, and the wall between tenants."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select

from almacen.gateway.app import gateway_of
from almacen.modules.scoring.score_job_tables import ScoreJob
from tests.common.actors import TenantHandle, assert_problem
from tests.functional.test_scoring_models import BASE, create
from tests.functional.test_scoring_scores import count_records

pytestmark = pytest.mark.modules("scoring")

BUCKETS = ("current", "1-30", "31-60", "other")


def records(count: int) -> list[dict[str, Any]]:
    """``count`` records spread over every bin (and the missing bin) of the test scorecard."""
    out: list[dict[str, Any]] = []
    for i in range(count):
        features: dict[str, Any] = {"bucket": BUCKETS[i % 4]}
        if i % 7:
            features["days_past_due"] = (i * 13) % 150
        out.append({"features": features, "subject": {"type": "account", "id": f"a{i}"}})
    return out


def submit(tenant: TenantHandle, batch: list[dict[str, Any]], **body: Any) -> Any:
    return tenant.post(f"{BASE}/score-jobs", json={"records": batch, **body})


def wait_for(tenant: TenantHandle, job_id: str, *, seconds: float = 120) -> dict[str, Any]:
    """Poll the job until it ends (progress never going back), or fail at the deadline."""
    deadline = time.monotonic() + seconds
    seen: list[int] = []
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = tenant.get(f"{BASE}/score-jobs/{job_id}")
        assert response.status_code == 200, response.text
        job = dict(response.json())
        seen.append(job["progress"])
        if job["status"] in ("succeeded", "failed"):
            assert seen == sorted(seen), "progress never goes back"
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job.get('status')} after {seconds} s")


def job_count(app: Any, tenant: TenantHandle) -> int:
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        return int(session.scalar(select(func.count()).select_from(ScoreJob)) or 0)


def test_a_large_job_scores_as_the_synchronous_endpoint_does(
    app: Any, tenant: TenantHandle
) -> None:
    model = create(tenant)
    batch = records(12_000)
    response = submit(tenant, batch, model_id=model["id"])
    assert response.status_code == 202, response.text
    queued = response.json()
    assert response.headers["Location"].endswith(f"{BASE}/score-jobs/{queued['id']}")
    assert (queued["records"], queued["model"]["id"], queued["record"]) == (
        12_000,
        model["id"],
        True,
    )
    job = wait_for(tenant, queued["id"])
    assert job["status"] == "succeeded", job
    assert (job["progress"], job["scored"], job["errors"]) == (100, 12_000, [])
    assert job["finished_at"] is not None
    assert count_records(app, tenant) == 12_000

    # a slice across the chunk boundary equals what /score gives for the same records
    offset, limit = 9_900, 200
    page = tenant.get(
        f"{BASE}/score-jobs/{job['id']}/results", params={"limit": limit, "offset": offset}
    )
    assert page.status_code == 200, page.text
    body = page.json()
    assert (body["total"], body["limit"], body["offset"]) == (12_000, limit, offset)
    direct = tenant.post(
        f"{BASE}/score",
        json={"records": batch[offset : offset + limit], "model_id": model["id"], "record": False},
    )
    assert direct.status_code == 200, direct.text
    assert body["results"] == direct.json()["results"]
    assert body["model"] == direct.json()["model"]
    tail = tenant.get(f"{BASE}/score-jobs/{job['id']}/results", params={"offset": 11_990})
    assert len(tail.json()["results"]) == 10


def test_without_record_no_score_records_are_kept(app: Any, tenant: TenantHandle) -> None:
    create(tenant)
    models = tenant.get(f"{BASE}/models").json()["items"]
    tenant.post(f"{BASE}/models/{models[0]['id']}/activate", json={"role": "champion"})
    response = submit(tenant, records(30), purpose="risk", record=False)
    assert response.status_code == 202, response.text
    job = wait_for(tenant, response.json()["id"])
    assert (job["status"], job["scored"], job["model"]["role"]) == ("succeeded", 30, "champion")
    assert count_records(app, tenant) == 0


def test_faulty_records_fail_the_job_and_keep_nothing(app: Any, tenant: TenantHandle) -> None:
    model = create(tenant)
    batch = records(10_050)
    batch[10_003] = {"features": {"days_past_due": "ten", "bucket": "current"}}
    response = submit(tenant, batch, model_id=model["id"])
    assert response.status_code == 202, response.text
    job = wait_for(tenant, response.json()["id"])
    assert job["status"] == "failed", job
    assert [e["pointer"] for e in job["errors"]] == ["/records/10003/features/days_past_due"]
    assert count_records(app, tenant) == 0
    assert_problem(tenant.get(f"{BASE}/score-jobs/{job['id']}/results"), 409)

    # under reject, missing characteristics are faults too: only the first 100 are kept
    strict = create(tenant, name="strict", missing="reject")
    missing = [{"features": {"bucket": "current"}}] * 150
    job = wait_for(tenant, submit(tenant, missing, model_id=strict["id"]).json()["id"])
    assert job["status"] == "failed"
    assert len(job["errors"]) == 100
    assert job["errors"][0]["pointer"] == "/records/0/features/days_past_due"
    assert count_records(app, tenant) == 0


def test_bad_requests_are_problems_and_store_nothing(app: Any, tenant: TenantHandle) -> None:
    model = create(tenant)
    assert_problem(submit(tenant, [{"features": {}}], model_id="0" * 32), 404)
    assert_problem(submit(tenant, [{"features": {}}], purpose="propensity"), 404)  # no champion
    assert_problem(submit(tenant, [], model_id=model["id"]), 400)
    too_many = [{"features": {}}] * 100_001
    assert_problem(submit(tenant, too_many, model_id=model["id"]), 400)
    assert_problem(tenant.get(f"{BASE}/score-jobs/{'0' * 32}"), 404)
    assert job_count(app, tenant) == 0


def test_tenants_never_see_each_others_jobs(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    model = create(tenant)
    job = wait_for(tenant, submit(tenant, records(5), model_id=model["id"]).json()["id"])
    assert job["status"] == "succeeded"
    assert_problem(other_tenant.get(f"{BASE}/score-jobs/{job['id']}"), 404)
    assert_problem(other_tenant.get(f"{BASE}/score-jobs/{job['id']}/results"), 404)
    assert_problem(submit(other_tenant, records(5), model_id=model["id"]), 404)
