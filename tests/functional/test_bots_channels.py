"""Inbound SMS and WhatsApp: a ``notifications.message_received`` event continues the
sender's conversation (one turn per inbound id, however often it is delivered), and the reply
goes out through ``notifications.send`` when the tenant has it, recorded on the turn either way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from almacen import EventType, emit
from almacen.gateway.app import gateway_of
from tests.common.actors import Admin, TenantHandle
from tests.common.ledger import new_debtor
from tests.common.receiver import Receiver
from tests.functional.test_bots_conversations import BASE, account, start

pytestmark = pytest.mark.modules("bots", "ledger")


def _received_type(app: Any) -> EventType:
    found = gateway_of(app).registry.event_types.get("notifications.message_received")
    if found is None:
        pytest.skip("the notifications module (which owns the event) is not installed")
    return found


def inbound(app: Any, tenant: TenantHandle, sender: str, text: str, inbound_id: str) -> None:
    """The notifications module's announcement of an inbound WhatsApp message, delivered."""
    gateway = gateway_of(app)
    session = gateway.db.session(tenant_id=tenant.id)
    try:
        payload = {"inbound_id": inbound_id, "channel": "whatsapp", "sender": sender, "text": text}
        emit(session, _received_type(app), payload)
        session.commit()
    finally:
        session.close()
    gateway.dispatcher.drain()


def turns(tenant: TenantHandle, conversation_id: str) -> list[dict[str, Any]]:
    response = tenant.get(f"{BASE}/conversations/{conversation_id}", params={"limit": 500})
    assert response.status_code == 200, response.text
    return list(response.json()["turns"]["items"])


def test_inbound_messages_continue_the_senders_conversation_once_each(
    app: Any, tenant: TenantHandle
) -> None:
    sender = f"+5730{uuid.uuid4().int % 10**8:08d}"
    conversation = start(tenant, account(tenant), channel="whatsapp", address=sender)
    conversation_id = conversation["conversation"]["id"]
    inbound(app, tenant, sender, "5678", "in-1")
    inbound(app, tenant, sender, "5678", "in-1")  # the provider's duplicate
    inbound(app, tenant, sender, "¿cuánto debo?", "in-2")
    seen = turns(tenant, conversation_id)
    assert [(t["seq"], t["message_id"]) for t in seen] == [(0, None), (1, "in-1"), (2, "in-2")]
    assert seen[1]["state_after"] == "verified"
    assert seen[2]["intent"] == "balance"
    # The reply is handed to notifications.send (recorded, whether or not it could run).
    assert seen[2]["actions"][-1]["name"] == "notifications.send"


def test_a_sender_without_a_conversation_is_handed_over(app: Any, tenant: TenantHandle) -> None:
    sender = f"+5731{uuid.uuid4().int % 10**8:08d}"
    inbound(app, tenant, sender, "hola, 5678", "in-9")
    [conversation] = [
        c for c in tenant.get(f"{BASE}/conversations").json()["items"] if c["address"] == sender
    ]
    assert conversation["channel"] == "whatsapp" and conversation["state"] == "handover"
    assert [h["reason"] for h in tenant.get(f"{BASE}/handovers").json()["items"]] == ["no_account"]


def _known_sender(tenant: TenantHandle) -> tuple[str, str]:
    """A debtor reachable at a fresh mobile number, with one open account: (number, account)."""
    national = f"31{uuid.uuid4().int % 10**8:08d}"
    debtor = new_debtor(
        tenant, contact_points=[{"kind": "phone", "value": f"+57 {national}"}], language="en"
    )
    return f"+57{national}", account(tenant, debtor_id=debtor["id"])


def test_a_sender_the_ledger_knows_talks_about_their_open_account(
    app: Any, tenant: TenantHandle
) -> None:
    sender, account_id = _known_sender(tenant)
    inbound(app, tenant, sender, "hi", "in-30")
    [conversation] = [
        c for c in tenant.get(f"{BASE}/conversations").json()["items"] if c["address"] == sender
    ]
    assert conversation["account_id"] == account_id
    assert conversation["state"] == "verifying" and conversation["locale"] == "en"
    first = turns(tenant, conversation["id"])
    # Identity first: the opening and the answer to "hi" say nothing about the debt.
    assert all("$" not in t["reply"] for t in first)
    inbound(app, tenant, sender, "5678", "in-31")
    inbound(app, tenant, sender, "how much do I owe?", "in-32")
    later = turns(tenant, conversation["id"])
    assert later[2]["state_after"] == "verified"
    assert later[3]["intent"] == "balance" and "1,0" in later[3]["reply"]


def test_another_tenants_debtor_at_the_address_is_not_found(
    app: Any, tenant: TenantHandle, other_tenant: TenantHandle
) -> None:
    sender, _ = _known_sender(other_tenant)
    inbound(app, tenant, sender, "hola, 5678", "in-40")
    [conversation] = [
        c for c in tenant.get(f"{BASE}/conversations").json()["items"] if c["address"] == sender
    ]
    assert conversation["account_id"] is None and conversation["state"] == "handover"


def test_two_debtors_at_one_address_are_a_persons_to_sort_out(
    app: Any, tenant: TenantHandle
) -> None:
    sender, _ = _known_sender(tenant)
    twin = new_debtor(tenant, contact_points=[{"kind": "phone", "value": sender}])
    account(tenant, debtor_id=twin["id"])
    inbound(app, tenant, sender, "hola, 5678", "in-50")
    [conversation] = [
        c for c in tenant.get(f"{BASE}/conversations").json()["items"] if c["address"] == sender
    ]
    assert conversation["account_id"] is None and conversation["state"] == "handover"


@pytest.fixture(scope="module")
def local_app(make_app: Callable[..., Any]) -> Any:
    """An app whose operator lets providers reach 127.0.0.1 (where the test receiver is)."""
    return make_app(webhook_allowed_networks=("127.0.0.0/8",))


def test_the_reply_goes_out_through_notifications(
    local_app: Any, admin: Admin, receiver: Receiver
) -> None:
    app = local_app
    operator = Admin(app.test_client(), admin.headers["X-API-Key"])
    tenant = operator.new_tenant(modules=["bots", "ledger", "notifications"])
    template = tenant.put(
        "/v1/notifications/templates/bot_reply/whatsapp/es", json={"text": "{{ text }}"}
    )
    assert template.status_code == 201, template.text
    provider = {
        "provider": "http_whatsapp",
        "credentials": {"url": receiver.url("/wa"), "token": "t" * 24, "sender": "ACME"},
    }
    channel = tenant.put("/v1/notifications/channels/whatsapp", json=provider)
    assert channel.status_code == 201, channel.text
    sender = f"+5732{uuid.uuid4().int % 10**8:08d}"
    conversation_id = start(tenant, account(tenant), channel="whatsapp", address=sender)[
        "conversation"
    ]["id"]
    inbound(app, tenant, sender, "5678", "in-20")
    inbound(app, tenant, sender, "5678", "in-20")
    [turn] = [t for t in turns(tenant, conversation_id) if t["message_id"] == "in-20"]
    sent = turn["actions"][-1]
    assert sent["name"] == "notifications.send" and sent["ok"] is True, sent
    assert sent["result"]["text"] == turn["reply"]
    assert sent["result"]["address"] == sender and sent["result"]["channel"] == "whatsapp"
    listed = tenant.get("/v1/notifications/messages").json()["items"]
    assert [m["text"] for m in listed] == [turn["reply"]]  # one reply for two deliveries
