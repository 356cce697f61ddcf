"""The webhook sender's pure parts: the retry schedule, filters, the message, one send."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from almacen.gateway.app import gateway_of
from almacen.gateway.events import Event
from almacen.gateway.settings import Settings
from almacen.gateway.webhooks.delivery import (
    RETRY_SCHEDULE,
    Outcome,
    Outgoing,
    Sender,
    message_body,
    retry_delay,
)
from almacen.gateway.webhooks.models import WebhookEndpoint
from almacen.gateway.webhooks.service import matches
from almacen.gateway.webhooks.signing import new_secret

HOUR = 3600


def test_the_published_schedule() -> None:
    assert RETRY_SCHEDULE == (0, 5, 300, 1800, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR)


@pytest.mark.parametrize(
    ("failed", "seconds"),
    [
        (1, 5),
        (2, 300),
        (3, 1800),
        (4, 2 * HOUR),
        (5, 5 * HOUR),
        (6, 10 * HOUR),
        (7, 10 * HOUR),
        (20, 10 * HOUR),
    ],
)
def test_retry_delay_follows_the_schedule(failed: int, seconds: int) -> None:
    assert retry_delay(failed) == dt.timedelta(seconds=seconds)


def test_retry_delay_scales() -> None:
    assert retry_delay(2, scale=0.5) == dt.timedelta(seconds=150)
    assert retry_delay(5, scale=0) == dt.timedelta(0)


@pytest.mark.parametrize(
    ("filters", "event_type", "expected"),
    [
        (["*"], "ledger.payment_posted", True),
        (["ledger.*"], "ledger.payment_posted", True),
        (["ledger.payment_posted"], "ledger.payment_posted", True),
        (["ledger.payment_reversed"], "ledger.payment_posted", False),
        (["calendar.*"], "ledger.payment_posted", False),
        (["ledger.payment_posted.*"], "ledger.payment_posted", False),
        (["calendar.*", "ledger.payment_posted"], "ledger.payment_posted", True),
    ],
)
def test_filters_match_types_module_wildcards_and_star(
    filters: list[str], event_type: str, expected: bool
) -> None:
    assert matches(filters, event_type) is expected


def test_the_message_is_compact_json_with_id_type_timestamp_and_data() -> None:
    event = Event(
        id="e" * 32,
        type="ledger.payment_posted",
        version=1,
        payload={"amount": {"amount": "12.50", "currency": "COP"}},
        subject_type="account",
        subject_id="a1",
        occurred_at=dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC),
    )

    body = message_body(event)

    assert " " not in body
    assert json.loads(body) == {
        "id": "e" * 32,
        "type": "ledger.payment_posted",
        "version": 1,
        "timestamp": "2026-11-28T09:00:00Z",
        "subject": {"type": "account", "id": "a1"},
        "cause": None,
        "data": {"amount": {"amount": "12.50", "currency": "COP"}},
    }
    # An event a blueprint rule caused names the rule and the experiment arm.
    event.depth, event.cause_id, event.service, event.rule, event.arm = (
        1,
        "c" * 32,
        "follow-up",
        "promise-after-payment",
        "challenger",
    )
    assert json.loads(message_body(event))["cause"] == {
        "event_id": "c" * 32,
        "service": "follow-up",
        "rule": "promise-after-payment",
        "arm": "challenger",
        "depth": 1,
    }


def test_the_previous_secret_signs_until_it_expires() -> None:
    now = dt.datetime.now(dt.UTC)
    endpoint = WebhookEndpoint(
        secret="new", previous_secret="old", previous_secret_expires_at=now + dt.timedelta(1)
    )
    assert endpoint.signing_secrets(now) == ["new", "old"]
    assert endpoint.signing_secrets(now + dt.timedelta(2)) == ["new"]


def _send(sender: Sender) -> Outcome:
    outgoing = Outgoing(
        delivery_id="d",
        tenant_id="t",
        msg_id="m",
        url="https://93.184.215.14/hook",
        secrets=(new_secret(),),
        body="{}",
    )
    with httpx.Client(transport=sender.transport, follow_redirects=False) as client:
        return sender.attempt(client, outgoing)


@pytest.fixture
def sender_with(app: Any) -> Callable[[Any], Sender]:
    """A sender whose HTTP requests go to a handler function instead of the network."""
    db = gateway_of(app).db
    return lambda handler: Sender(db, Settings(), transport=httpx.MockTransport(handler))


def test_a_2xx_succeeds_and_keeps_an_excerpt(sender_with: Callable[[Any], Sender]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="x" * 5000)

    outcome = _send(sender_with(handler))

    assert outcome.ok
    assert outcome.status_code == 200
    assert outcome.excerpt == "x" * 1000
    assert seen[0].headers["webhook-id"] == "m"
    assert seen[0].headers["content-type"] == "application/json"


@pytest.mark.parametrize("status", [301, 400, 410, 500])
def test_anything_but_a_2xx_fails(status: int, sender_with: Callable[[Any], Sender]) -> None:
    outcome = _send(sender_with(lambda _: httpx.Response(status, headers={"Location": "/"})))
    assert not outcome.ok
    assert outcome.status_code == status


def test_a_transport_error_is_an_outcome_without_status(
    sender_with: Callable[[Any], Sender],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    outcome = _send(sender_with(handler))

    assert not outcome.ok
    assert outcome.status_code is None
    assert outcome.error == "ConnectTimeout: timed out"
