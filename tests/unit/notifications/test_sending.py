"""Pure parts of sending: callback signatures, merged template data, request fingerprints,
the address of each channel and the sending throttle."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from almacen.gateway.errors import AuthenticationError
from almacen.modules.notifications.contact import Recipient
from almacen.modules.notifications.sending.accept import address_for, fingerprint, render_data
from almacen.modules.notifications.sending.callbacks import sign, verify
from almacen.modules.notifications.sending.throttle import Throttle

SECRET = "whsec_test"
BODY = b'{"message_id":"m1","status":"delivered"}'


def check(headers: dict[str, str], body: bytes, *, now: int) -> None:
    verify(
        SECRET,
        body,
        timestamp=headers.get("X-Almacen-Timestamp"),
        signature=headers.get("X-Almacen-Signature"),
        now=now,
    )


def recipient(**fields: Any) -> Recipient:
    base: dict[str, Any] = {
        "debtor_id": None,
        "time_zone": "America/Bogota",
        "country": "CO",
        "locale": "es_CO",
        "email": None,
        "phone": None,
        "whatsapp": None,
    }
    return Recipient(**{**base, **fields})


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    # The oracle: the scheme as a provider would write it from the documentation.
    expected = hmac.new(b"whsec_test", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1700000000, BODY) == f"v1={expected}"


def test_verify_accepts_a_fresh_signature_among_several() -> None:
    headers = {
        "X-Almacen-Timestamp": "1700000000",
        "X-Almacen-Signature": "v1=00, " + sign(SECRET, 1700000000, BODY),
    }
    check(headers, BODY, now=1700000100)


@pytest.mark.parametrize(
    ("headers", "now"),
    [
        ({}, 1700000000),
        ({"X-Almacen-Timestamp": "1700000000"}, 1700000000),
        ({"X-Almacen-Timestamp": "soon", "X-Almacen-Signature": "v1=00"}, 1700000000),
        # Stale: more than five minutes after it was signed.
        ({"X-Almacen-Timestamp": "1700000000", "X-Almacen-Signature": "SIG"}, 1700000301),
        # Signed with another secret.
        ({"X-Almacen-Timestamp": "1700000000", "X-Almacen-Signature": "OTHER"}, 1700000000),
    ],
)
def test_verify_refuses_missing_stale_or_wrong_signatures(
    headers: dict[str, str], now: int
) -> None:
    values = {
        "SIG": sign(SECRET, 1700000000, BODY),
        "OTHER": sign("whsec_other", 1700000000, BODY),
    }
    headers = {k: values.get(v, v) for k, v in headers.items()}
    with pytest.raises(AuthenticationError):
        check(headers, BODY, now=now)


def test_verify_refuses_a_changed_body() -> None:
    headers = {
        "X-Almacen-Timestamp": "1700000000",
        "X-Almacen-Signature": sign(SECRET, 1700000000, BODY),
    }
    with pytest.raises(AuthenticationError):
        check(headers, BODY.replace(b"delivered", b"bounced"), now=1700000000)


def test_merged_data_keeps_the_latest_values_and_lists_every_request() -> None:
    items = [
        {"data": {"name": "Ana", "amount": "10"}, "account_ids": ["a1"]},
        {"data": {"name": "Ana", "amount": "25"}, "account_ids": ["a2", "a3"]},
    ]
    assert render_data(items) == {
        "name": "Ana",
        "amount": "25",
        "accounts": [
            {"name": "Ana", "amount": "10", "account_ids": ["a1"]},
            {"name": "Ana", "amount": "25", "account_ids": ["a2", "a3"]},
        ],
    }


def test_fingerprint_ignores_the_key_and_member_order_but_not_values() -> None:
    one = {"channel": "sms", "template": "t", "data": {"a": 1, "b": 2}}
    same = {"template": "t", "data": {"b": 2, "a": 1}, "channel": "sms", "idempotency_key": "k"}
    other = {"channel": "sms", "template": "t", "data": {"a": 1, "b": 3}}
    assert fingerprint(one) == fingerprint(same)
    assert fingerprint(one) != fingerprint(other)


def test_addresses_per_channel() -> None:
    who = recipient(email="ana@example.com", phone="+573001234567")
    assert address_for(who, "email", {}) == "ana@example.com"
    assert address_for(who, "sms", {}) == "+573001234567"
    # WhatsApp falls back to the phone number; other channels need an explicit address.
    assert address_for(who, "whatsapp", {}) == "+573001234567"
    assert address_for(recipient(whatsapp="+5215512345678"), "whatsapp", {}) == "+5215512345678"
    assert address_for(who, "webhook", {}) is None
    assert address_for(who, "webhook", {"address": "crm-1"}) == "crm-1"


def test_throttle_counts_per_tenant_and_per_channel() -> None:
    throttle = Throttle("memory://")
    config = {"send_rate_limit": "3/minute", "channel_rate_limits": {"sms": "1/minute"}}
    assert throttle.acquire("t1", "sms", config) is None
    wait = throttle.acquire("t1", "sms", config)  # the channel's 1/minute is spent
    assert wait is not None and 0 < wait.total_seconds() <= 60
    assert throttle.acquire("t1", "email", config) is None
    assert throttle.acquire("t1", "email", config) is None
    assert throttle.acquire("t1", "email", config) is not None  # the tenant's 3/minute
    assert throttle.acquire("t2", "email", config) is None  # another tenant counts alone


def test_throttle_ignores_an_unreadable_rate() -> None:
    throttle = Throttle("memory://")
    for _ in range(5):
        assert throttle.acquire("t1", "email", {"send_rate_limit": "lots"}) is None
