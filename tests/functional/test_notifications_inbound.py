"""Provider callbacks: signed delivery receipts, and inbound replies that opt out (in many
phrasings) or reach a bot as ``notifications.message_received``; public, but only for the
tenant and provider the signature proves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.common.actors import Admin, assert_problem
from tests.common.notifications_sending import (
    BASE,
    MEMO,
    Env,
    MemoPlugin,
    body_to,
    events_of,
    memo_env,
    message,
    send,
    signed_post,
)


@pytest.fixture(scope="module")
def memo_app(make_app: Any) -> tuple[Any, MemoPlugin]:
    plugin = MemoPlugin()
    return make_app(plugins=[("memo_channel", plugin)]), plugin


@pytest.fixture
def env(memo_app: tuple[Any, MemoPlugin], admin: Admin) -> Iterator[Env]:
    yield from memo_env(memo_app, admin)


def receipts(tenant_id: str, provider: str = MEMO) -> str:
    return f"{BASE}/callbacks/{tenant_id}/{provider}/receipts"


def inbound(tenant_id: str, provider: str = MEMO) -> str:
    return f"{BASE}/callbacks/{tenant_id}/{provider}/inbound"


def sent_message(env: Env, unique: Any) -> tuple[Any, dict[str, Any]]:
    """A tenant and one message of it, sent."""
    tenant = env.tenant()
    made = send(tenant, body_to(unique("ana")))
    env.drain()
    sent = message(tenant, made["id"])
    assert sent["status"] == "sent"
    return tenant, sent


def test_signed_receipts_move_a_sent_message_on(env: Env, unique: Any) -> None:
    tenant, sent = sent_message(env, unique)
    client, secret = env.admin.client, env.secrets[tenant.id]
    by_provider_id = {"provider_message_id": sent["provider_message_id"], "status": "delivered"}
    answer = signed_post(client, receipts(tenant.id), by_provider_id, secret)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "delivered"
    # The same receipt again changes nothing (providers retry).
    again = signed_post(client, receipts(tenant.id), by_provider_id, secret)
    assert again.status_code == 200 and again.json()["status"] == "delivered"
    # A bounce may follow a delivery; by our own message id this time.
    bounce = {"message_id": sent["id"], "status": "bounced", "reason": "mailbox full"}
    assert signed_post(client, receipts(tenant.id), bounce, secret).json()["status"] == "bounced"
    final = message(tenant, sent["id"])
    assert [h["to_status"] for h in final["history"]] == ["queued", "sent", "delivered", "bounced"]
    assert "mailbox full" in final["history"][-1]["note"]
    assert [e["payload"]["message_id"] for e in events_of(tenant, "notifications.delivered")] == [
        sent["id"]
    ]
    failed = events_of(tenant, "notifications.failed")
    assert [(e["payload"]["message_id"], e["payload"]["status"]) for e in failed] == [
        (sent["id"], "bounced")
    ]


def test_unsigned_stale_or_forged_callbacks_are_refused(env: Env, unique: Any) -> None:
    tenant, sent = sent_message(env, unique)
    client, secret = env.admin.client, env.secrets[tenant.id]
    receipt = {"message_id": sent["id"], "status": "delivered"}
    unsigned = client.post(receipts(tenant.id), json=receipt)
    assert_problem(unsigned, 401)
    assert_problem(signed_post(client, receipts(tenant.id), receipt, "whsec_forged"), 401)
    stale = signed_post(client, receipts(tenant.id), receipt, secret, at=time.time() - 600)
    assert_problem(stale, 401)
    reply = {"channel": MEMO, "from": sent["address"], "text": "STOP"}
    assert_problem(signed_post(client, inbound(tenant.id), reply, "whsec_forged"), 401)
    # Unknown tenant, a provider the tenant does not use: 404 that says no more.
    assert_problem(signed_post(client, receipts("0" * 32), receipt, secret), 404)
    assert_problem(signed_post(client, receipts(tenant.id, "smtp"), receipt, secret), 404)
    assert message(tenant, sent["id"])["status"] == "sent"
    assert events_of(tenant, "notifications.opted_out") == []


def test_a_tenant_cannot_touch_another_tenants_message(env: Env, unique: Any) -> None:
    tenant, sent = sent_message(env, unique)
    other = env.tenant()
    receipt = {"message_id": sent["id"], "status": "failed"}
    # Signed by the other tenant, for the other tenant's path: no such message there.
    forged = signed_post(env.admin.client, receipts(other.id), receipt, env.secrets[other.id])
    assert_problem(forged, 404)
    # The other tenant's secret does not sign for this tenant.
    crossed = signed_post(env.admin.client, receipts(tenant.id), receipt, env.secrets[other.id])
    assert_problem(crossed, 401)
    assert message(tenant, sent["id"])["status"] == "sent"


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        "Quit",
        "END",
        "cancel",
        "UNSUBSCRIBE",
        "Revoke",
        "opt out",
        "BAJA",
        "Alto",
        "CANCELAR",
        "no me escriban más",
        "Por favor no me escriban mas",
    ],
)
def test_opt_out_replies_opt_out_at_once(env: Env, unique: Any, text: str) -> None:
    tenant, sent = sent_message(env, unique)
    pending = send(tenant, body_to(sent["address"]))
    reply = {"channel": MEMO, "from": sent["address"], "text": text, "in_reply_to": sent["id"]}
    answer = signed_post(env.admin.client, inbound(tenant.id), reply, env.secrets[tenant.id])
    assert answer.status_code == 200, answer.text
    assert answer.json()["opted_out"] is True
    [event] = events_of(tenant, "notifications.opted_out")
    assert event["payload"]["address"] == sent["address"]
    assert event["payload"]["channel"] == MEMO and event["payload"]["source"] == "inbound"
    assert events_of(tenant, "notifications.message_received") == []
    # The message accepted before the reply is never sent; a new one is blocked at once.
    env.drain()
    assert message(tenant, pending["id"])["status"] == "blocked"
    assert send(tenant, body_to(sent["address"]))["status"] == "blocked"
    assert len(env.provider.sent_to(sent["address"])) == 1


@pytest.mark.parametrize(
    "text",
    ["¿Cuánto debo?", "Puedo pagar el viernes", "stop calling me at work, email is fine"],
)
def test_other_replies_reach_a_bot_as_message_received(env: Env, unique: Any, text: str) -> None:
    tenant, sent = sent_message(env, unique)
    reply = {"channel": MEMO, "from": sent["address"], "text": text, "provider_message_id": "in-1"}
    answer = signed_post(env.admin.client, inbound(tenant.id), reply, env.secrets[tenant.id])
    assert answer.status_code == 200, answer.text
    result = answer.json()
    if result["opted_out"]:
        # A recogniser may read "stop calling me" as an opt-out: then it must be recorded.
        assert events_of(tenant, "notifications.opted_out")
        return
    [event] = events_of(tenant, "notifications.message_received")
    payload = event["payload"]
    assert payload["text"] == text and payload["sender"] == sent["address"]
    assert payload["channel"] == MEMO and payload["inbound_id"] == result["id"]
    # Found by the last message to that address: it answers that one.
    assert payload["in_reply_to"] == sent["id"]
    assert events_of(tenant, "notifications.opted_out") == []
