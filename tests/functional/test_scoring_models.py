"""The model registry through HTTP: versions, drafts, activation, retirement, isolation."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select

from almacen.gateway.app import gateway_of
from almacen.modules.scoring.model_tables import ScoringModel
from tests.common.actors import TenantHandle, assert_problem

pytestmark = pytest.mark.modules("scoring")

BASE = "/v1/scoring"


def scorecard(**fields: Any) -> dict[str, Any]:
    """A two-characteristic scorecard: 600 at 50:1, PDO 20."""
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
            },
        ],
        "bands": [
            {"grade": "A", "min_score": 560},
            {"grade": "B", "min_score": 480},
            {"grade": "C"},
        ],
        **fields,
    }


def create(tenant: TenantHandle, name: str = "risk-card", **fields: Any) -> dict[str, Any]:
    response = tenant.post(f"{BASE}/models", json={"name": name, "document": scorecard(**fields)})
    assert response.status_code == 201, response.text
    return dict(response.json())


def count_models(app: Any, tenant: TenantHandle) -> int:
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        return int(session.scalar(select(func.count()).select_from(ScoringModel)) or 0)


def test_versions_increment_per_name(tenant: TenantHandle) -> None:
    first = create(tenant)
    second = create(tenant)
    other = create(tenant, name="other")
    assert (first["version"], second["version"], other["version"]) == (1, 2, 1)
    assert first["status"] == "draft" and first["role"] is None
    listed = tenant.get(f"{BASE}/models", params={"name": "risk-card"}).json()["items"]
    assert [m["version"] for m in listed] == [1, 2]
    assert tenant.get(f"{BASE}/models/{first['id']}").json()["document"]["purpose"] == "risk"


def test_lifecycle_champion_challenger_retire_and_event(tenant: TenantHandle) -> None:
    v1, v2 = create(tenant), create(tenant)
    active = tenant.post(f"{BASE}/models/{v1['id']}/activate", json={"role": "champion"}).json()
    assert (active["status"], active["role"]) == ("active", "champion")
    tenant.post(f"{BASE}/models/{v2['id']}/activate", json={"role": "champion"})
    # the old champion is demoted to challenger, not retired
    assert tenant.get(f"{BASE}/models/{v1['id']}").json()["role"] == "challenger"
    assert tenant.get(f"{BASE}/models/{v2['id']}").json()["role"] == "champion"
    champions = [
        m
        for m in tenant.get(f"{BASE}/models", params={"status": "active"}).json()["items"]
        if m["role"] == "champion"
    ]
    assert [m["id"] for m in champions] == [v2["id"]]

    events = tenant.get("/v1/events", params={"type": "scoring.model_activated"}).json()["items"]
    payloads = [e["data"] if "data" in e else e["payload"] for e in events]
    assert {(p["model_id"], p["role"]) for p in payloads} == {
        (v1["id"], "champion"),
        (v2["id"], "champion"),
    }

    # active versions are frozen; retired is final
    edit = tenant.patch(f"{BASE}/models/{v1['id']}", json={"document": scorecard()})
    assert_problem(edit, 409)
    retired = tenant.post(f"{BASE}/models/{v1['id']}/retire").json()
    assert (retired["status"], retired["role"]) == ("retired", None)
    assert_problem(
        tenant.post(f"{BASE}/models/{v1['id']}/activate", json={"role": "challenger"}), 409
    )
    assert_problem(tenant.post(f"{BASE}/models/{v1['id']}/retire"), 409)


def test_a_draft_is_edited(tenant: TenantHandle) -> None:
    draft = create(tenant)
    document = scorecard(purpose="propensity")
    edited = tenant.patch(f"{BASE}/models/{draft['id']}", json={"document": document}).json()
    assert edited["purpose"] == "propensity"
    assert edited["version"] == 1


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        (
            lambda d: d["characteristics"][0]["bins"][1].update(lower=20),
            "/document/characteristics/0/bins/1/lower",
        ),
        (
            lambda d: d["characteristics"][0]["bins"][2].update(lower=95),
            "/document/characteristics/0/bins/2/lower",
        ),
        (
            lambda d: d["characteristics"][1]["bins"][1]["categories"].append("current"),
            "/document/characteristics/1/bins/1/categories/2",
        ),
        (lambda d: d.update(type="neural-net"), "/document/type"),
        (lambda d: d.update(purpose="fraud"), "/document/purpose"),
        (lambda d: d.pop("scaling"), "/document/scaling"),
    ],
)
def test_invalid_documents_are_422_with_pointers_and_store_nothing(
    app: Any, tenant: TenantHandle, change: Any, pointer: str
) -> None:
    document = copy.deepcopy(scorecard())
    change(document)
    response = tenant.post(f"{BASE}/models", json={"name": "bad", "document": document})
    body = assert_problem(response, 422)
    assert pointer in [e["pointer"] for e in body["errors"]], body
    assert count_models(app, tenant) == 0


def test_unknown_models_are_404(tenant: TenantHandle) -> None:
    missing = "0" * 32
    assert_problem(tenant.get(f"{BASE}/models/{missing}"), 404)
    assert_problem(tenant.post(f"{BASE}/models/{missing}/activate", json={"role": "champion"}), 404)
    assert_problem(tenant.post(f"{BASE}/models/{missing}/retire"), 404)


def test_tenants_do_not_see_each_others_models(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    mine = create(tenant)
    assert_problem(other_tenant.get(f"{BASE}/models/{mine['id']}"), 404)
    assert_problem(
        other_tenant.post(f"{BASE}/models/{mine['id']}/activate", json={"role": "champion"}), 404
    )
    assert_problem(
        other_tenant.patch(f"{BASE}/models/{mine['id']}", json={"description": "x"}), 404
    )
    assert_problem(other_tenant.post(f"{BASE}/models/{mine['id']}/retire"), 404)
    score = other_tenant.post(
        f"{BASE}/score", json={"model_id": mine["id"], "records": [{"features": {}}]}
    )
    assert_problem(score, 404)
    assert other_tenant.get(f"{BASE}/models").json()["items"] == []
    assert tenant.get(f"{BASE}/models/{mine['id']}").json()["status"] == "draft"
