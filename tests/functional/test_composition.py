"""The composition issue's acceptance, end to end through HTTP on two real modules.

A tenant subscribed to the ledger and the calendar applies a blueprint: when a payment is
posted, look the account up (ledger), add five business days to the payment's date
(calendar) and book a promise to pay for half the payment then (ledger). It registers a
webhook for the promises. A payment through the API then has to produce, after delivery:
the rule's run, the promise (read back through the ledger API), its event stamped with the
rule that caused it, and a webhook on a real local server whose signature the
``standardwebhooks`` library verifies.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from almacen.gateway.app import gateway_of
from almacen.gateway.events import run_tasks
from tests.common.actors import Admin, TenantHandle
from tests.common.ledger import new_account, pay
from tests.common.receiver import Receiver

TODAY = dt.date.today().isoformat()

BLUEPRINT: dict[str, Any] = {
    "description": "Half of each payment over 50 promised again a week later",
    "modules": {"ledger": {"config": {"max_open_promises": 5}}, "calendar": {}},
    "outcomes": [{"name": "payments", "event": "ledger.payment_posted"}],
    "rules": [
        {
            "name": "promise-after-payment",
            "when": "ledger.payment_posted",
            "with": {
                "account": {
                    "action": "ledger.get_account",
                    "input": {"account_id": "${event.payload.account_id}"},
                }
            },
            "if": "decimal(event.payload.amount) > 50 and decimal(account.total) > 0",
            "do": [
                {
                    "name": "due",
                    "action": "calendar.add_business_days",
                    "input": {"date": "${event.payload.received_on}", "days": 5},
                },
                {
                    "action": "ledger.create_promise",
                    "input": {
                        "account_id": "${event.payload.account_id}",
                        "amount": "${money(decimal(event.payload.amount) / 2, 'COP')}",
                        "due_on": "${steps.due.result}",
                        "channel": "whatsapp",
                    },
                },
            ],
        }
    ],
}


@pytest.fixture
def composed_app(make_app: Callable[..., Any]) -> Any:
    return make_app(
        webhook_allowed_networks=("127.0.0.1/32",),
        webhook_retry_scale=0.0,
        webhook_timeout_seconds=5.0,
    )


@pytest.fixture
def firm(composed_app: Any, admin: Admin) -> TenantHandle:
    return admin.new_tenant(modules=["ledger", "calendar"], client=composed_app.test_client())


def deliver(app: Any) -> None:
    """What a worker does: drain the outbox (rules run), then every task (webhooks are sent)."""
    dispatcher = gateway_of(app).dispatcher
    tasks = dispatcher.worker_tasks()
    while run_tasks(tasks):
        pass


def test_a_payment_runs_the_blueprint_and_the_webhook_arrives_signed(
    composed_app: Any, firm: TenantHandle, receiver: Receiver
) -> None:
    hook = firm.post(
        "/v1/webhooks", json={"url": receiver.url(), "filters": ["ledger.promise_created"]}
    )
    assert hook.status_code == 201, hook.text
    secret = hook.json()["secret"]
    applied = firm.put("/v1/services/follow-up", json=BLUEPRINT)
    assert applied.status_code == 201, applied.text
    account = new_account(firm)

    payment = pay(firm, account["id"], "100.00", TODAY)
    assert payment.status_code == 201, payment.text
    deliver(composed_app)

    # The rule ran once, for the payment's event, through both modules.
    [run] = firm.get("/v1/services/follow-up/runs").json()["items"]
    assert (run["rule"], run["outcome"]) == ("promise-after-payment", "fired")
    [posted] = firm.get("/v1/events", params={"type": "ledger.payment_posted"}).json()["items"]
    assert run["event_id"] == posted["id"]
    # Its effect, read back through the ledger's own API.
    [promise] = firm.get(f"/v1/ledger/accounts/{account['id']}/promises").json()["items"]
    assert promise["amount"] == {"amount": "50.00", "currency": "COP"}
    assert promise["due_on"] > TODAY and promise["channel"] == "whatsapp"
    # The event it caused says so.
    [created] = firm.get("/v1/events", params={"type": "ledger.promise_created"}).json()["items"]
    assert created["cause"] == {
        "event_id": posted["id"],
        "service": "follow-up",
        "rule": "promise-after-payment",
        "arm": None,
        "depth": 1,
    }
    # And the receiver got it once, signed: standardwebhooks verifies it with the secret.
    [received] = receiver.received
    message = Webhook(secret).verify(received.body, received.headers)
    assert received.headers["webhook-id"] == created["id"]
    assert message["type"] == "ledger.promise_created"
    assert message["data"]["promise_id"] == promise["id"]
    assert message["cause"]["service"] == "follow-up"
    assert json.loads(received.body)["subject"] == {"type": "account", "id": account["id"]}
    [logged] = firm.get(f"/v1/webhooks/{hook.json()['id']}/deliveries").json()["items"]
    assert logged["status"] == "delivered"


def test_without_the_calendar_the_blueprint_is_refused_and_nothing_runs(
    composed_app: Any, admin: Admin
) -> None:
    ledger_only = admin.new_tenant(modules=["ledger"], client=composed_app.test_client())

    refused = ledger_only.put("/v1/services/follow-up", json=BLUEPRINT)

    assert refused.status_code == 422
    pointers = {e["pointer"] for e in refused.json()["errors"]}
    assert "/modules/calendar" in pointers
    account = new_account(ledger_only)
    pay(ledger_only, account["id"], "100.00", TODAY)
    deliver(composed_app)
    assert ledger_only.get(f"/v1/ledger/accounts/{account['id']}/promises").json()["items"] == []
