"""Stored offers through HTTP and actions: propose, approve, accept (idempotent, in the
ledger's transaction), reject, expire; and that refused acceptances leave no partial state."""

from __future__ import annotations

from typing import Any

import pytest

from almacen.gateway.actions import run_action
from almacen.gateway.app import gateway_of
from tests.common.actors import TenantHandle, assert_problem
from tests.common.ledger import money, new_account

BASE = "/v1/offers"
LEDGER = "/v1/ledger"
pytestmark = pytest.mark.modules("offers", "ledger")


def policy() -> dict[str, Any]:
    """COP terms: plans of 3, 6 and 12 months; settlements above 15 % need approval."""
    terms = {
        "max_discount": "0.20",
        "pay_in_full_discount": "0.05",
        "min_upfront": "0.10",
        "instalment_counts": [3, 6, 12],
        "min_instalment": money("50.00"),
        "max_term_months": 12,
        "refinancing_rate": "0.12",
        "validity_days": 7,
        "approval": {"discount_above": "0.15"},
    }
    return {"currency": "COP", "rules": [], "default": terms}


def ready(tenant: TenantHandle) -> str:
    """Store the policy and open an account; its id."""
    assert tenant.put(f"{BASE}/policy", json=policy()).status_code == 201
    return str(new_account(tenant)["id"])


def propose(tenant: TenantHandle, account_id: str, kind: str, **more: Any) -> dict[str, Any]:
    response = tenant.post(f"{BASE}/offers", json={"account_id": account_id, "kind": kind, **more})
    assert response.status_code == 201, response.text
    return dict(response.json())


def offer(tenant: TenantHandle, offer_id: str) -> dict[str, Any]:
    response = tenant.get(f"{BASE}/offers/{offer_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def plans(tenant: TenantHandle, account_id: str) -> list[dict[str, Any]]:
    response = tenant.get(f"{LEDGER}/accounts/{account_id}/plans")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def events(tenant: TenantHandle, kind: str) -> list[dict[str, Any]]:
    response = tenant.get("/v1/events", params={"type": kind})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_propose_list_get_with_history(tenant: TenantHandle) -> None:
    account_id = ready(tenant)
    made = propose(tenant, account_id, "plan", count=6)
    assert made["status"] == "proposed" and made["term_months"] == 6
    assert len([r for r in made["terms"]["schedule"] if r["number"] > 0]) == 6
    assert [h["to_status"] for h in made["history"]] == ["proposed"]
    assert made["expires_on"] == made["terms"]["expires_on"]
    listed = tenant.get(f"{BASE}/offers", params={"account_id": account_id}).json()["items"]
    assert [o["id"] for o in listed] == [made["id"]]
    assert offer(tenant, made["id"]) == made
    assert [e["payload"]["offer_id"] for e in events(tenant, "offers.proposed")] == [made["id"]]
    # Not on the menu: a 24-month plan, an unknown kind; an unknown account.
    for body in ({"kind": "plan", "count": 24}, {"kind": "lottery"}):
        assert_problem(tenant.post(f"{BASE}/offers", json={"account_id": account_id, **body}), 422)
    missing = {"account_id": "f" * 32, "kind": "plan"}
    assert_problem(tenant.post(f"{BASE}/offers", json=missing), 404)
    assert_problem(tenant.get(f"{BASE}/offers/{'0' * 32}"), 404)


def test_accepting_twice_installs_one_plan(tenant: TenantHandle) -> None:
    account_id = ready(tenant)
    made = propose(tenant, account_id, "refinancing", count=3)
    first = tenant.post(f"{BASE}/offers/{made['id']}/accept")
    assert first.status_code == 200, first.text
    accepted = first.json()
    assert accepted["status"] == "accepted" and accepted["ledger_plan_id"]
    again = tenant.post(f"{BASE}/offers/{made['id']}/accept")
    assert again.status_code == 200 and again.json() == accepted
    installed = plans(tenant, account_id)
    assert [p["id"] for p in installed] == [accepted["ledger_plan_id"]]
    assert installed[0]["kind"] == "plan"
    assert len(events(tenant, "offers.accepted")) == 1
    assert [h["to_status"] for h in accepted["history"]] == ["proposed", "accepted"]
    # An accepted offer cannot be rejected any more.
    assert_problem(tenant.post(f"{BASE}/offers/{made['id']}/reject"), 409)


def test_settlement_beyond_threshold_waits_for_approval(tenant: TenantHandle) -> None:
    account_id = ready(tenant)
    made = propose(tenant, account_id, "settlement")
    assert made["status"] == "pending_approval" and made["requires_approval"] is True
    assert len(events(tenant, "offers.approval_required")) == 1
    assert_problem(tenant.post(f"{BASE}/offers/{made['id']}/accept"), 409)
    assert plans(tenant, account_id) == []
    approved = tenant.post(f"{BASE}/offers/{made['id']}/approve").json()
    assert approved["status"] == "approved"
    accepted = tenant.post(f"{BASE}/offers/{made['id']}/accept").json()
    assert accepted["status"] == "accepted"
    [settlement] = plans(tenant, account_id)
    assert settlement["kind"] == "settlement" and settlement["id"] == accepted["ledger_plan_id"]
    steps = [h["to_status"] for h in accepted["history"]]
    assert steps == ["pending_approval", "approved", "accepted"]
    other = propose(tenant, ready_again(tenant), "settlement")
    declined = tenant.post(f"{BASE}/offers/{other['id']}/decline").json()
    assert declined["status"] == "declined"
    assert_problem(tenant.post(f"{BASE}/offers/{other['id']}/accept"), 409)


def ready_again(tenant: TenantHandle) -> str:
    """Another account of the same tenant (the policy is in place)."""
    return str(new_account(tenant)["id"])


def test_expiry_job_and_accepting_an_expired_offer(tenant: TenantHandle) -> None:
    account_id = ready(tenant)
    made = propose(tenant, account_id, "plan", count=3)
    rejected = propose(tenant, account_id, "plan", count=6)
    assert tenant.post(f"{BASE}/offers/{rejected['id']}/reject").json()["status"] == "rejected"
    assert tenant.post(f"{BASE}/jobs/expiry", json={}).json()["expired"] == []
    run = tenant.post(f"{BASE}/jobs/expiry", json={"as_of": "2099-01-01"})
    assert run.status_code == 200, run.text
    assert run.json()["expired"] == [made["id"]]  # the rejected one is closed already
    assert [e["payload"]["offer_id"] for e in events(tenant, "offers.expired")] == [made["id"]]
    assert_problem(tenant.post(f"{BASE}/offers/{made['id']}/accept"), 409)
    after = offer(tenant, made["id"])
    assert after["status"] == "expired" and after["ledger_plan_id"] is None
    assert [h["to_status"] for h in after["history"]] == ["proposed", "expired"]
    assert plans(tenant, account_id) == []
    assert events(tenant, "offers.accepted") == []


def test_another_tenants_offer_is_not_found(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    account_id = ready(tenant)
    made = propose(tenant, account_id, "plan", count=3)
    for verb in ("accept", "reject", "approve", "decline"):
        assert_problem(other_tenant.post(f"{BASE}/offers/{made['id']}/{verb}"), 404)
    assert_problem(other_tenant.get(f"{BASE}/offers/{made['id']}"), 404)
    assert other_tenant.get(f"{BASE}/offers").json()["items"] == []
    assert offer(tenant, made["id"]) == made
    assert plans(tenant, account_id) == []


def test_ledger_refusal_leaves_no_partial_state(tenant: TenantHandle) -> None:
    account_id = ready(tenant)
    made = propose(tenant, account_id, "plan", count=3)
    # The account gets a plan of its own first: the ledger refuses a second one.
    first_due = made["terms"]["schedule"][-1]["due_on"]
    own = tenant.post(
        f"{LEDGER}/accounts/{account_id}/plans", json={"count": 2, "first_due": first_due}
    )
    assert own.status_code == 201, own.text
    assert_problem(tenant.post(f"{BASE}/offers/{made['id']}/accept"), 409)
    assert offer(tenant, made["id"]) == made  # still proposed, no history added
    assert [p["id"] for p in plans(tenant, account_id)] == [own.json()["id"]]
    assert events(tenant, "offers.accepted") == []


def test_disputed_account_refuses_acceptance(tenant: TenantHandle) -> None:
    account_id = ready(tenant)
    made = propose(tenant, account_id, "plan", count=3)
    dispute = tenant.post(f"{LEDGER}/accounts/{account_id}/dispute", json={"reason": "not mine"})
    assert dispute.status_code == 201, dispute.text
    body = assert_problem(tenant.post(f"{BASE}/offers/{made['id']}/accept"), 409)
    assert "disputed" in body["detail"]
    assert offer(tenant, made["id"]) == made
    assert plans(tenant, account_id) == []
    no_new = {"account_id": account_id, "kind": "plan"}
    assert_problem(tenant.post(f"{BASE}/offers", json=no_new), 409)


def test_actions_propose_counter_and_accept(app: Any, tenant: TenantHandle) -> None:
    account_id = ready(tenant)
    db = gateway_of(app).db
    with db.transaction(tenant_id=tenant.id) as session:
        made = run_action(session, "offers.propose", {"account_id": account_id, "kind": "plan"})
        answer = run_action(
            session,
            "offers.counter",
            {"offer_id": made["id"], "monthly": {"amount": "1000000.00", "currency": "COP"}},
        )
        assert answer["met"] is True and answer["countered_offer_id"] == made["id"]
        accepted = run_action(session, "offers.accept", {"offer_id": answer["offer"]["id"]})
        assert accepted["status"] == "accepted"
        session.rollback()  # the caller changes its mind: offers and the ledger plan go
    assert tenant.get(f"{BASE}/offers").json()["items"] == []
    assert plans(tenant, account_id) == []
    with db.transaction(tenant_id=tenant.id) as session:
        made = run_action(session, "offers.propose", {"account_id": account_id, "kind": "plan"})
        run_action(session, "offers.accept", {"offer_id": made["id"]})
    assert offer(tenant, made["id"])["status"] == "accepted"
    assert len(plans(tenant, account_id)) == 1


def test_offers_are_listed_in_cursor_pages(
    tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    account_id = ready(tenant)
    made = [propose(tenant, account_id, kind) for kind in ("plan", "refinancing", "pay_in_full")]
    first = tenant.get(f"{BASE}/offers", params={"limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [o["id"] for o in page["items"]] == [m["id"] for m in made[:2]]
    assert page["next"] is not None
    rest = tenant.get(f"{BASE}/offers", params={"limit": 2, "cursor": page["next"]}).json()
    assert [o["id"] for o in rest["items"]] == [made[2]["id"]] and rest["next"] is None
    only = tenant.get(f"{BASE}/offers", params={"account_id": account_id, "status": "proposed"})
    assert len(only.json()["items"]) == 3
    # Another tenant given this tenant's cursor still sees only its own (no) offers.
    theirs = other_tenant.get(f"{BASE}/offers", params={"cursor": page["next"]}).json()
    assert theirs == {"items": [], "next": None}


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WzEsMl0"}, "cursor"),  # base64 of [1,2]: not one this API issued
        ({"status": "lost"}, "status"),
    ],
)
def test_bad_list_parameters_are_named(
    tenant: TenantHandle, params: dict[str, Any], where: str
) -> None:
    body = assert_problem(tenant.get(f"{BASE}/offers", params=params), 400)
    assert where in str(body), body
