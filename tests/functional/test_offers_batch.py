"""Menus in bulk through HTTP (``POST /v1/offers/jobs/menus``) and the ledger's bulk facts
(``ledger.get_accounts``): the same menus as one by one, paging, skipped accounts, tenant
isolation and every bad input."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from almacen.gateway.actions import run_action
from almacen.gateway.app import gateway_of
from tests.common.actors import TenantHandle, assert_problem
from tests.common.ledger import money, new_account

BASE = "/v1/offers"
LEDGER = "/v1/ledger"
JOB = f"{BASE}/jobs/menus"
pytestmark = pytest.mark.modules("offers", "ledger")


def policy() -> dict[str, Any]:
    """COP terms: plans of 3 and 6 months; a rule for accounts 90+ days late."""
    terms = {
        "max_discount": "0.20",
        "pay_in_full_discount": "0.05",
        "min_upfront": "0.10",
        "instalment_counts": [3, 6],
        "min_instalment": money("50.00"),
        "max_term_months": 12,
        "refinancing_rate": "0.12",
        "validity_days": 7,
        "approval": {"discount_above": "0.15"},
    }
    rule = {**terms, "name": "late", "when": {"buckets": ["90+"]}, "max_discount": "0.40"}
    return {"currency": "COP", "rules": [rule], "default": terms}


def ready(tenant: TenantHandle, accounts: int) -> list[str]:
    """Store the policy and open ``accounts`` accounts (1,000.00 and up); their ids, sorted."""
    assert tenant.put(f"{BASE}/policy", json=policy()).status_code == 201
    ids = [
        new_account(tenant, principal=money(f"{1000 + 250 * n}.00"))["id"] for n in range(accounts)
    ]
    return sorted(ids)


def batch(tenant: TenantHandle, **body: Any) -> dict[str, Any]:
    response = tenant.post(JOB, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_batch_menus_are_the_single_menus(tenant: TenantHandle) -> None:
    ids = ready(tenant, 3)
    unknown = uuid.uuid4().hex
    answer = batch(tenant, account_ids=[ids[2], unknown, ids[0], ids[1]], top=100)
    assert [item["account_id"] for item in answer["items"]] == ids
    assert answer["skipped"] == [{"account_id": unknown, "reason": "no such account"}]
    assert answer["next"] is None and answer["policy_version"] == 1
    for item in answer["items"]:
        ledger = tenant.get(f"{LEDGER}/accounts/{item['account_id']}").json()
        single = tenant.post(f"{BASE}/menu", json={"account_id": item["account_id"]}).json()
        assert item["balance"] == single["balance"]
        assert Decimal(item["balance"]["amount"]) == Decimal(ledger["total"]["amount"])
        assert item["propensity"] == {"value": "0.3000", "source": "default"}
        assert len(item["offers"]) == len(single["offers"])
        for summary, full in zip(item["offers"], single["offers"], strict=True):
            for key in ("rank", "kind", "label", "discount", "forgiven", "upfront"):
                assert summary[key] == full[key], key
            for key in ("term_months", "total_cost", "expires_on", "expected_recovery"):
                assert summary[key] == full[key], key
            assert summary["effective_annual_rate"] == full["effective_annual_rate"]
            monthly = [row for row in full["schedule"] if row["number"] > 0]
            assert summary["instalment"] == (monthly[0]["amount"] if monthly else None)
    # top keeps each account's best offers only
    assert all(len(item["offers"]) == 2 for item in batch(tenant, top=2)["items"])


def test_paging_over_open_accounts_and_skipping_disputed(tenant: TenantHandle) -> None:
    ids = ready(tenant, 3)
    disputed = ids[1]
    opened = tenant.post(f"{LEDGER}/accounts/{disputed}/dispute", json={"reason": "not mine"})
    assert opened.status_code == 201, opened.text
    first = batch(tenant, limit=2)
    assert first["next"] is not None
    second = batch(tenant, limit=2, cursor=first["next"])
    assert second["next"] is None
    seen = [item["account_id"] for page in (first, second) for item in page["items"]]
    skipped = [entry for page in (first, second) for entry in page["skipped"]]
    assert seen == [ids[0], ids[2]]
    assert skipped == [{"account_id": disputed, "reason": "the account is disputed"}]


def test_a_batch_never_reaches_another_tenants_accounts(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    ids = ready(tenant, 2)
    mine = ready(other_tenant, 1)
    named = batch(other_tenant, account_ids=ids)
    assert named["items"] == []
    assert {entry["account_id"] for entry in named["skipped"]} == set(ids)
    assert [item["account_id"] for item in batch(other_tenant)["items"]] == mine
    assert [item["account_id"] for item in batch(tenant)["items"]] == ids


def test_ledger_get_accounts_action(app: Any, tenant: TenantHandle) -> None:
    ids = ready(tenant, 2)
    db = gateway_of(app).db
    with db.session(tenant_id=tenant.id) as session:
        page = run_action(session, "ledger.get_accounts", {"account_ids": ids})
        first = run_action(session, "ledger.get_accounts", {"limit": 1})
    assert [row["account_id"] for row in page["items"]] == ids
    for row in page["items"]:
        one = tenant.get(f"{LEDGER}/accounts/{row['account_id']}").json()
        assert row["total"] == one["total"]
        assert row["days_past_due"] == one["days_past_due"]
        assert row["bucket"] == one["bucket"]
        assert row["status"] == "open" and row["disputed"] is False
    assert page["next_after"] is None
    assert first["next_after"] == ids[0] and len(first["items"]) == 1


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"account_ids": []}, "/account_ids"),
        ({"account_ids": ["not-an-id"]}, "/account_ids/0"),
        ({"account_ids": [uuid.uuid4().hex] * 10_001}, "/account_ids"),
        ({"account_ids": [uuid.uuid4().hex], "cursor": uuid.uuid4().hex}, "/cursor"),
        ({"cursor": "../../etc"}, "/cursor"),
        ({"limit": 0}, "/limit"),
        ({"limit": 10_001}, "/limit"),
        ({"limit": "5"}, "/limit"),
        ({"top": 0}, "/top"),
    ],
)
def test_bad_batch_requests_are_named(
    tenant: TenantHandle, body: dict[str, Any], pointer: str
) -> None:
    ready(tenant, 0)
    response = tenant.post(JOB, json=body)
    problem = assert_problem(response, response.status_code)
    assert response.status_code in (400, 422)
    where = {e.get("pointer") or e.get("field") or "" for e in problem.get("errors", [])}
    assert any(pointer.strip("/").split("/")[0] in str(spot) for spot in where), problem


def test_unknown_fields_no_policy_and_no_ledger(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    assert_problem(tenant.post(JOB, json={"accounts": []}), 400)
    body = assert_problem(tenant.post(JOB, json={}), 422)
    assert "no offer policy" in body["detail"]


@pytest.mark.modules("offers")
def test_a_tenant_without_the_ledger_is_told(tenant: TenantHandle) -> None:
    assert tenant.put(f"{BASE}/policy", json=policy()).status_code == 201
    body = assert_problem(tenant.post(JOB, json={}), 422)
    assert "ledger" in body["detail"]
