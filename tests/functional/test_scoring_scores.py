"""``POST /score`` and the ``scoring.score`` action: oracles, bad input, ledger features."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sqlalchemy import func, select

from almacen.gateway.actions import run_action
from almacen.gateway.app import gateway_of
from almacen.gateway.errors import UnprocessableError
from almacen.modules.scoring.model_tables import ScoreRecord
from tests.common.actors import Admin, TenantHandle, assert_problem
from tests.common.ledger import new_account
from tests.functional.test_scoring_models import BASE, create

pytestmark = pytest.mark.modules("scoring")


def activate(tenant: TenantHandle, model: dict[str, Any]) -> None:
    response = tenant.post(f"{BASE}/models/{model['id']}/activate", json={"role": "champion"})
    assert response.status_code == 200, response.text


def score(tenant: TenantHandle, records: list[dict[str, Any]], **body: Any) -> Any:
    return tenant.post(f"{BASE}/score", json={"records": records, **body})


def count_records(app: Any, tenant: TenantHandle) -> int:
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        return int(session.scalar(select(func.count()).select_from(ScoreRecord)) or 0)


def test_scores_match_the_hand_computed_oracle(app: Any, tenant: TenantHandle) -> None:
    model = create(tenant)
    activate(tenant, model)
    response = score(
        tenant,
        [
            {
                "features": {"days_past_due": 0, "bucket": "current"},
                "subject": {"type": "account", "id": "a1"},
            },
            {"features": {"days_past_due": 45, "bucket": "31-60"}},
        ],
        purpose="risk",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == {
        "id": model["id"],
        "name": "risk-card",
        "version": 1,
        "purpose": "risk",
        "role": "champion",
    }
    first, second = body["results"]
    # 400 + 120 + 80 = 600: at the base score the odds are 50:1, P(bad) = 1/51
    assert (first["score"], first["band"], first["reasons"]) == (600, "A", [])
    assert first["probability"] == pytest.approx(1 / 51)
    # 400 + 60 + 30 = 490, B; lost 60 on days past due and 50 on bucket
    assert (second["score"], second["band"]) == (490, "B")
    assert second["reasons"] == ["days_past_due", "bucket"]
    odds = math.exp((490 - (600 - 20 / math.log(2) * math.log(50))) / (20 / math.log(2)))
    assert second["probability"] == pytest.approx(1 / (1 + odds))
    assert second["bins"] == {"days_past_due": "[30, 90)", "bucket": "1-30,31-60"}
    assert count_records(app, tenant) == 2
    score(tenant, [{"features": {"days_past_due": 1}}], model_id=model["id"], record=False)
    assert count_records(app, tenant) == 2


def test_missing_characteristics_bin_or_reject_by_setting(
    app: Any, admin: Admin, tenant: TenantHandle
) -> None:
    model = create(tenant)
    (result,) = score(tenant, [{"features": {"bucket": "current"}}], model_id=model["id"]).json()[
        "results"
    ]
    assert result["score"] == 400 + 40 + 80  # the missing bin of days past due
    strict = create(tenant, name="strict", missing="reject")
    body = assert_problem(
        score(
            tenant,
            [
                {"features": {"days_past_due": 1, "bucket": "current"}},
                {"features": {"bucket": "current"}},
            ],
            model_id=strict["id"],
        ),
        422,
    )
    assert [e["pointer"] for e in body["errors"]] == ["/records/1/features/days_past_due"]
    # the tenant's setting applies when the model says nothing
    assert admin.subscribe(tenant.id, "scoring", {"missing": "reject"}).status_code == 200
    body = assert_problem(
        score(tenant, [{"features": {"bucket": "current"}}], model_id=model["id"]), 422
    )
    assert [e["pointer"] for e in body["errors"]] == ["/records/0/features/days_past_due"]
    assert count_records(app, tenant) == 1


def test_bad_input_is_a_problem_and_stores_nothing(app: Any, tenant: TenantHandle) -> None:
    model = create(tenant)
    body = assert_problem(
        score(
            tenant,
            [{"features": {"days_past_due": "ten", "bucket": "current"}}],
            model_id=model["id"],
        ),
        422,
    )
    assert body["errors"][0]["pointer"] == "/records/0/features/days_past_due"
    assert_problem(score(tenant, [], model_id=model["id"]), 400)
    too_many = [{"features": {}}] * 10_001
    assert_problem(score(tenant, too_many, model_id=model["id"]), 400)
    assert_problem(score(tenant, [{"features": {}}], model_id="0" * 32), 404)
    assert_problem(score(tenant, [{"features": {}}], purpose="propensity"), 404)  # no champion
    tenant.post(f"{BASE}/models/{model['id']}/retire")
    assert_problem(score(tenant, [{"features": {}}], model_id=model["id"]), 409)
    assert count_records(app, tenant) == 0


def test_the_action_scores_and_degrades_without_the_ledger(app: Any, tenant: TenantHandle) -> None:
    model = create(tenant)
    activate(tenant, model)
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        output = run_action(
            session,
            "scoring.score",
            {"purpose": "risk", "features": {"days_past_due": 0, "bucket": "current"}},
        )
        assert (output["score"], output["band"], output["model"]["id"]) == (600, "A", model["id"])
        with pytest.raises(UnprocessableError) as caught:
            run_action(session, "scoring.score", {"purpose": "risk", "account_id": "a" * 32})
    assert "ledger is not available" in caught.value.detail
    assert caught.value.errors[0]["pointer"] == "/features"


@pytest.mark.modules("scoring", "ledger")
def test_the_action_reads_features_from_the_ledger(app: Any, tenant: TenantHandle) -> None:
    model = create(tenant)
    activate(tenant, model)
    account = new_account(tenant)
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        output = run_action(
            session, "scoring.score", {"purpose": "risk", "account_id": account["id"]}
        )
    ledger = tenant.get(f"/v1/ledger/accounts/{account['id']}").json()
    dpd, bucket = ledger["days_past_due"], ledger["bucket"]
    expected = 400 + (120 if dpd < 30 else 60 if dpd < 90 else 10) + {"current": 80}.get(bucket, 30)
    assert output["score"] == expected
    http = score(tenant, [{"account_id": account["id"]}], purpose="risk").json()["results"][0]
    assert http["score"] == expected
