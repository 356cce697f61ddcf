"""Menus in bulk for a tenant with scoring: one ``scoring.score_many`` call for the
propensities and one ``scoring.segment_many`` call for the segments give what the one-account
menu gets from ``scoring.score`` and ``scoring.segment``; both batch actions checked against
the scorecard's hand-computed points and across tenants."""

from __future__ import annotations

import math
from typing import Any

import pytest

from almacen import ActionInputError
from almacen.gateway.actions import run_action
from almacen.gateway.app import gateway_of
from almacen.gateway.errors import UnprocessableError
from tests.common.actors import TenantHandle
from tests.common.ledger import money, new_account
from tests.functional.test_offers_segments import SEGMENTS, policy
from tests.functional.test_scoring_models import create

BASE = "/v1/offers"
pytestmark = pytest.mark.modules("offers", "ledger", "scoring")


def champion(tenant: TenantHandle, purpose: str) -> None:
    """The two-characteristic scorecard (600 at 50:1, PDO 20) as ``purpose``'s champion."""
    model = create(tenant, name=f"{purpose}-card", purpose=purpose)
    response = tenant.post(f"/v1/scoring/models/{model['id']}/activate", json={"role": "champion"})
    assert response.status_code == 200, response.text


def propensity_of(tenant: TenantHandle, account_id: str) -> float:
    """The scorecard's propensity for the account, by hand from the ledger's facts: points
    per bin, then ``odds / (1 + odds)`` with ``odds = exp((score − offset) / factor)``."""
    account = tenant.get(f"/v1/ledger/accounts/{account_id}").json()
    dpd, bucket = account["days_past_due"], account["bucket"]
    score = 400 + (120 if dpd < 30 else 60 if dpd < 90 else 10)
    score += {"current": 80}.get(bucket, 30)  # as the scoring tests reckon other buckets
    factor = 20 / math.log(2)
    odds = math.exp((score - (600 - factor * math.log(50))) / factor)
    return odds / (1 + odds)


def test_score_many_scores_each_record_in_order(app: Any, tenant: TenantHandle) -> None:
    champion(tenant, "risk")
    items = [
        {"features": {"days_past_due": 45, "bucket": "31-60"}},
        {"features": {"days_past_due": 0, "bucket": "current"}},
    ]
    with gateway_of(app).db.transaction(tenant_id=tenant.id) as session:
        output = run_action(
            session, "scoring.score_many", {"purpose": "risk", "items": items, "record": False}
        )
        with pytest.raises(ActionInputError) as empty:
            run_action(session, "scoring.score_many", {"purpose": "risk", "items": []})
        with pytest.raises(ActionInputError) as bare:
            run_action(session, "scoring.score_many", {"purpose": "risk", "items": [{}]})
    # 400 + 60 + 30 = 490 (B), then 400 + 120 + 80 = 600 (A): the input's order.
    assert [(r["score"], r["band"]) for r in output["items"]] == [(490, "B"), (600, "A")]
    assert output["items"][1]["probability"] == pytest.approx(1 / 51)
    assert output["model"]["purpose"] == "risk"
    assert empty.value.errors[0]["pointer"] == "/items"
    assert bare.value.errors[0]["pointer"] == "/items/0/features"


def test_a_scoring_tenants_batch_is_its_single_menus(tenant: TenantHandle) -> None:
    assert tenant.put("/v1/scoring/segments/rules", json=SEGMENTS).status_code == 201
    assert tenant.put(f"{BASE}/policy", json=policy()).status_code == 201
    champion(tenant, "propensity")
    big = new_account(tenant, principal=money("10000.00"))["id"]
    small = new_account(tenant, principal=money("1000.00"))["id"]

    response = tenant.post(f"{BASE}/jobs/menus", json={"account_ids": [big, small], "top": 100})
    assert response.status_code == 200, response.text
    items = {item["account_id"]: item for item in response.json()["items"]}
    for account_id, rule in ((big, "big-ones"), (small, None)):
        item = items[account_id]
        assert item["rule"] == rule
        assert item["propensity"]["source"] == "scoring"
        assert float(item["propensity"]["value"]) == pytest.approx(
            propensity_of(tenant, account_id), abs=5e-5
        )
        single = tenant.post(f"{BASE}/menu", json={"account_id": account_id}).json()
        assert (single["rule"], single["propensity"]) == (rule, item["propensity"])
        for summary, full in zip(item["offers"], single["offers"], strict=True):
            for key in ("rank", "kind", "discount", "upfront", "expected_recovery"):
                assert summary[key] == full[key], key
    # The batch's segmentation is scoring's own record, as one account's would be.
    history = tenant.get("/v1/scoring/segments/assignments", params={"account_id": big})
    assert [a["segment"] for a in history.json()["items"]] == ["big"]


def test_without_segment_rules_or_models_the_batch_takes_the_defaults(
    tenant: TenantHandle,
) -> None:
    assert tenant.put(f"{BASE}/policy", json=policy()).status_code == 201
    big = new_account(tenant, principal=money("10000.00"))["id"]
    response = tenant.post(f"{BASE}/jobs/menus", json={"account_ids": [big]})
    assert response.status_code == 200, response.text
    (item,) = response.json()["items"]
    assert item["rule"] is None
    assert item["propensity"] == {"value": "0.3000", "source": "default"}


def test_the_batch_actions_never_read_another_tenants_accounts(
    app: Any, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    big = new_account(tenant, principal=money("10000.00"))["id"]
    champion(other_tenant, "risk")
    assert other_tenant.put("/v1/scoring/segments/rules", json=SEGMENTS).status_code == 201
    with gateway_of(app).db.transaction(tenant_id=other_tenant.id) as session:
        with pytest.raises(UnprocessableError) as caught:
            run_action(
                session,
                "scoring.score_many",
                {"purpose": "risk", "items": [{"account_id": big}], "record": False},
            )
        assigned = run_action(session, "scoring.segment_many", {"accounts": [{"account_id": big}]})
    assert caught.value.errors[0]["pointer"] == "/items/0/account_id"
    # The other tenant's ledger has no such account: no balance, so not the "big" segment.
    (outcome,) = assigned["items"]
    assert (outcome["segment"], outcome["sources"]) == ("standard", [])
