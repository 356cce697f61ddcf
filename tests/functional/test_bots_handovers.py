"""The handover queue worked by people: take an item, resolve it, and what others may not do."""

from __future__ import annotations

from typing import Any

import pytest

from tests.common.actors import TenantHandle, assert_problem
from tests.functional.test_bots_conversations import BASE, account, say, start

pytestmark = pytest.mark.modules("bots", "ledger", "offers")


def _handed_over(tenant: TenantHandle) -> dict[str, Any]:
    """A verified debtor who said "ya pagué": the queue's one item."""
    conversation = start(tenant, account(tenant))["conversation"]["id"]
    assert say(tenant, conversation, "5678")["state"] == "verified"
    assert say(tenant, conversation, "ya pagué")["state"] == "handover"
    [item] = tenant.get(f"{BASE}/handovers").json()["items"]
    assert item["conversation_id"] == conversation and item["status"] == "waiting"
    return dict(item)


def test_take_then_resolve_announces_the_resolution(tenant: TenantHandle) -> None:
    item = _handed_over(tenant)
    path = f"{BASE}/handovers/{item['id']}"
    taken = tenant.post(f"{path}/take", json={"agent": "marta"})
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "taken" and taken.json()["taken_by"] == "marta"
    assert taken.json()["transcript"][0]["seq"] == 0
    again = tenant.post(f"{path}/take", json={"agent": "marta"})  # the same agent: no change
    assert again.status_code == 200 and again.json()["taken_at"] == taken.json()["taken_at"]
    body = assert_problem(tenant.post(f"{path}/take", json={"agent": "luis"}), 409)
    assert "marta" in body["detail"]
    assert_problem(
        tenant.post(f"{path}/resolve", json={"resolution": "other", "agent": "luis"}), 409
    )
    resolved = tenant.post(
        f"{path}/resolve",
        json={"resolution": "payment_confirmed", "agent": "marta", "note": "paid on the 3rd"},
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolution"] == "payment_confirmed"
    assert resolved.json()["note"] == "paid on the 3rd" and resolved.json()["resolved_at"]
    assert_problem(tenant.post(f"{path}/resolve", json={"resolution": "other"}), 409)
    assert_problem(tenant.post(f"{path}/take", json={"agent": "marta"}), 409)
    events = tenant.get("/v1/events", params={"limit": 500}).json()["items"]
    [announced] = [e for e in events if e["type"] == "bots.handover_resolved"]
    assert announced["payload"]["handover_id"] == item["id"]
    assert announced["payload"]["reason"] == "already_paid"
    assert announced["payload"]["resolution"] == "payment_confirmed"
    assert announced["payload"]["agent"] == "marta"
    listed = tenant.get(f"{BASE}/handovers", params={"status": "resolved"}).json()["items"]
    assert [i["id"] for i in listed] == [item["id"]]
    assert tenant.get(f"{BASE}/handovers", params={"status": "waiting"}).json()["items"] == []


def test_a_waiting_item_can_be_resolved_directly(tenant: TenantHandle) -> None:
    item = _handed_over(tenant)
    resolved = tenant.post(
        f"{BASE}/handovers/{item['id']}/resolve", json={"resolution": "payment_not_found"}
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["taken_by"] is None and resolved.json()["status"] == "resolved"


def test_bad_requests_and_other_tenants(tenant: TenantHandle, other_tenant: TenantHandle) -> None:
    item = _handed_over(tenant)
    path = f"{BASE}/handovers/{item['id']}"
    assert_problem(other_tenant.post(f"{path}/take", json={"agent": "eve"}), 404)
    assert_problem(other_tenant.post(f"{path}/resolve", json={"resolution": "other"}), 404)
    assert_problem(tenant.post(f"{BASE}/handovers/{'0' * 32}/take", json={"agent": "a"}), 404)
    assert_problem(tenant.post(f"{path}/take", json={}), 400)
    assert_problem(tenant.post(f"{path}/take", json={"agent": ""}), 400)
    assert_problem(tenant.post(f"{path}/resolve", json={"resolution": "paid-ish"}), 400)
    # Nothing of those changed the item.
    [still] = tenant.get(f"{BASE}/handovers").json()["items"]
    assert still["status"] == "waiting" and still["taken_by"] is None
