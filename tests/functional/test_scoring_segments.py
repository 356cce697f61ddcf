"""Segmentation through HTTP: versioned rules checked at PUT time, assignments with history,
``scoring.segment_changed`` only on a change, the report, the action, and the tenant wall."""

from __future__ import annotations

from typing import Any

import pytest

from almacen import run_action
from almacen.gateway.app import gateway_of
from tests.common.actors import TenantHandle, assert_problem
from tests.common.ledger import money, new_account

BASE = "/v1/scoring/segments"

RULES: dict[str, Any] = {
    "rules": [
        {
            "name": "late-low",
            "if": "days_past_due >= 60 and score < 550",
            "segment": "hard",
            "treatments": ["agent_call", "settlement"],
        },
        {
            "name": "big-balance",
            "if": "balance > decimal('5000')",
            "segment": "plan",
            "treatments": ["payment_plan"],
        },
        {
            "name": "likely",
            "if": "features.channel == 'app' or probability >= decimal('0.7')",
            "segment": "self-cure",
            "treatments": ["sms_reminder"],
        },
    ],
    "default": {"segment": "standard", "treatments": ["email_reminder"]},
}


def put_rules(tenant: TenantHandle, body: dict[str, Any] = RULES) -> dict[str, Any]:
    response = tenant.put(f"{BASE}/rules", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def assign(tenant: TenantHandle, *accounts: dict[str, Any]) -> list[dict[str, Any]]:
    response = tenant.post(f"{BASE}/assign", json={"accounts": list(accounts)})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def changed_events(tenant: TenantHandle) -> list[dict[str, Any]]:
    response = tenant.get("/v1/events", params={"type": "scoring.segment_changed", "limit": 500})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


@pytest.mark.modules("scoring")
def test_rules_are_versioned_and_first_match_wins(tenant: TenantHandle) -> None:
    first = put_rules(tenant)
    assert first["version"] == 1 and first["active"] is True
    assert first["default"] == RULES["default"]
    second = put_rules(tenant, {**RULES, "rules": RULES["rules"][1:]})
    assert second["version"] == 2
    assert tenant.get(f"{BASE}/rules").json()["version"] == 2
    old = tenant.get(f"{BASE}/rules", params={"version": 1}).json()
    assert old["active"] is False and len(old["rules"]) == 3
    put_rules(tenant)  # version 3: the full set again

    outcomes = assign(
        tenant,
        # both the first and the third rule match: the first wins
        {"account_id": "a-1", "score": 500, "days_past_due": 90, "probability": "0.9"},
        {"account_id": "a-2", "balance": money("6000.00")},
        {"account_id": "a-3", "features": {"channel": "app"}},
        {"account_id": "a-4", "score": 700, "days_past_due": 0},
    )
    assert [(o["segment"], o["rule"]) for o in outcomes] == [
        ("hard", "late-low"),
        ("plan", "big-balance"),
        ("self-cure", "likely"),
        ("standard", None),
    ]
    assert outcomes[0]["treatments"] == ["agent_call", "settlement"]
    assert all(o["rule_set_version"] == 3 and o["changed"] for o in outcomes)
    # a-2 has no score or days past due: the first rule cannot be evaluated and is skipped
    assert [s["rule"] for s in outcomes[1]["skipped"]] == ["late-low"]


@pytest.mark.modules("scoring")
def test_invalid_rules_list_every_fault_with_its_pointer(tenant: TenantHandle) -> None:
    body = {
        "rules": [
            {"name": "a", "if": "scroe > 600", "segment": "x"},
            {"name": "b", "if": "balance > 10.5", "segment": "y"},
            {"name": "c", "if": "score >", "segment": "z"},
            {"name": "a", "if": "__import__('os')", "segment": "w"},
        ]
    }
    problem = assert_problem(tenant.put(f"{BASE}/rules", json=body), 422)
    pointers = [e["pointer"] for e in problem["errors"]]
    assert "/default" in pointers  # no default segment
    assert "/rules/0/if" in pointers and "/rules/1/if" in pointers
    assert "/rules/2/if" in pointers and "/rules/3/if" in pointers
    assert "/rules/3/name" in pointers  # duplicate name
    details = " | ".join(e["detail"] for e in problem["errors"])
    assert "unknown name 'scroe'" in details
    assert "float" in details
    assert "syntax error" in details
    # nothing stored
    assert_problem(tenant.get(f"{BASE}/rules"), 404)


@pytest.mark.modules("scoring")
def test_assigning_without_rules_is_a_404(tenant: TenantHandle) -> None:
    assert_problem(tenant.post(f"{BASE}/assign", json={"accounts": [{"account_id": "x"}]}), 404)


@pytest.mark.modules("scoring")
def test_history_is_kept_and_events_only_on_change(tenant: TenantHandle) -> None:
    put_rules(tenant)
    [first] = assign(tenant, {"account_id": "acc-9", "score": 700})
    assert first["segment"] == "standard" and first["previous"] is None and first["changed"]
    [same] = assign(tenant, {"account_id": "acc-9", "score": 710})
    assert same["changed"] is False and same["previous"] == "standard"
    [moved] = assign(tenant, {"account_id": "acc-9", "score": 500, "days_past_due": 75})
    assert moved["changed"] and moved["previous"] == "standard" and moved["segment"] == "hard"

    events = changed_events(tenant)
    assert [(e["payload"]["old"], e["payload"]["new"]) for e in events] == [
        (None, "standard"),
        ("standard", "hard"),
    ]
    assert events[1]["subject"] == {"type": "account", "id": "acc-9"}
    assert events[1]["payload"]["score"] == 500

    history = tenant.get(f"{BASE}/assignments", params={"account_id": "acc-9"}).json()["items"]
    assert [(h["segment"], h["ended_at"] is None) for h in history] == [
        ("standard", False),
        ("hard", True),
    ]
    assert history[0]["score"] == 710  # the unchanged assignment was refreshed
    current = tenant.get(f"{BASE}/assignments").json()["items"]
    assert [c["segment"] for c in current] == ["hard"]


@pytest.mark.modules("scoring")
def test_report_sums_balances_per_currency_exactly(tenant: TenantHandle) -> None:
    put_rules(tenant)
    assign(
        tenant,
        {"account_id": "r1", "balance": money("0.10")},
        {"account_id": "r2", "balance": money("0.20")},
        {"account_id": "r3", "balance": money("7000.05", "USD")},
        {"account_id": "r4", "balance": money("5000.01", "USD")},
        {"account_id": "r5"},
    )
    report = tenant.get(f"{BASE}/report").json()
    assert report["accounts"] == 5 and report["rule_set_version"] == 1
    by_segment = {row["segment"]: row for row in report["segments"]}
    assert by_segment["standard"]["accounts"] == 3
    assert by_segment["standard"]["share"] == "0.6000"
    # 0.10 + 0.20 is 0.30 exactly (it would not be in floating point)
    assert by_segment["standard"]["balances"] == [money("0.30")]
    assert by_segment["plan"]["balances"] == [money("12000.06", "USD")]


@pytest.mark.modules("scoring")
def test_tenants_do_not_see_each_others_segments(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    put_rules(tenant)
    assign(tenant, {"account_id": "secret", "balance": money("10.00")})
    assert_problem(other_tenant.get(f"{BASE}/rules"), 404)
    assert other_tenant.get(f"{BASE}/assignments", params={"account_id": "secret"}).json() == {
        "items": [],
        "next": None,
    }
    assert other_tenant.get(f"{BASE}/report").json() == {
        "rule_set_version": None,
        "accounts": 0,
        "segments": [],
    }
    assert changed_events(other_tenant) == []
    # B's rules do not touch A's
    put_rules(other_tenant, {"rules": [], "default": {"segment": "b-only"}})
    assert tenant.get(f"{BASE}/rules").json()["version"] == 1


@pytest.mark.modules("scoring", "ledger")
def test_values_come_from_the_ledger_when_the_tenant_has_it(tenant: TenantHandle) -> None:
    put_rules(tenant)
    account = new_account(tenant)
    [outcome] = assign(tenant, {"account_id": account["id"], "score": 700})
    assert "ledger" in outcome["sources"]
    [row] = tenant.get(f"{BASE}/assignments", params={"account_id": account["id"]}).json()["items"]
    assert row["balance"] is not None and row["balance"]["currency"] == "COP"


@pytest.mark.modules("scoring")
def test_the_segment_action_runs_in_process(app: Any, tenant: TenantHandle) -> None:
    put_rules(tenant)
    gateway = gateway_of(app)
    with gateway.db.transaction(tenant_id=tenant.id) as session:
        result = run_action(
            session,
            "scoring.segment",
            {"account_id": "via-action", "score": 400, "days_past_due": 61},
        )
    assert result["segment"] == "hard" and result["changed"] is True
    assert result["treatments"] == ["agent_call", "settlement"]
    [event] = changed_events(tenant)
    assert event["payload"]["account_id"] == "via-action"
