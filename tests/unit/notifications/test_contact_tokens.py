"""Unsubscribe tokens: what they carry survives the round trip; any change is detected."""

from __future__ import annotations

import pytest

import almacen.modules.notifications.contact as contact
from almacen.modules.notifications.contact.consent import normalise_address
from almacen.modules.notifications.contact.tokens import BadUnsubscribeToken, make_token, read_token

SECRET, TENANT = "s" * 64, "a" * 32


def test_a_token_round_trips() -> None:
    token = make_token(SECRET, TENANT, debtor_id="d1", address="ana@example.com", channel="email")
    assert read_token(SECRET, TENANT, token) == {
        "debtor_id": "d1",
        "address": "ana@example.com",
        "channel": "email",
    }
    assert "=" not in token and "/" not in token  # safe in a URL path as it is


@pytest.mark.parametrize(
    ("secret", "tenant"),
    [("t" * 64, TENANT), (SECRET, "b" * 32)],
    ids=["another secret", "another tenant"],
)
def test_a_token_is_bound_to_its_secret_and_tenant(secret: str, tenant: str) -> None:
    token = make_token(SECRET, TENANT, debtor_id=None, address="ana@example.com", channel="sms")
    with pytest.raises(BadUnsubscribeToken):
        read_token(secret, tenant, token)


def test_a_changed_payload_is_refused() -> None:
    token = make_token(SECRET, TENANT, debtor_id=None, address="ana@example.com", channel="sms")
    other = make_token(SECRET, TENANT, debtor_id=None, address="eve@example.com", channel="sms")
    forged = other.split(".")[0] + "." + token.split(".")[1]
    with pytest.raises(BadUnsubscribeToken) as caught:
        read_token(SECRET, TENANT, forged)
    assert caught.value.status == 400
    assert caught.value.errors == [
        {"parameter": "token", "detail": "the unsubscribe token's signature does not match"}
    ]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Ana.Gomez@Example.COM", "ana.gomez@example.com"),
        ("+57 300 123 4567", "+573001234567"),
        ("whatsapp:+573001234567", "+573001234567"),
        ("(212) 555-0143", "2125550143"),
    ],
)
def test_addresses_are_normalised(given: str, stored: str) -> None:
    assert normalise_address(given) == stored


def test_the_public_names_are_pinned() -> None:
    assert sorted(contact.__all__) == [
        "BadUnsubscribeToken",
        "ContactBatch",
        "ContactDecision",
        "ContactProblem",
        "Reason",
        "Recipient",
        "check_contact",
        "is_opt_out_intent",
        "is_opted_out",
        "record_attempt",
        "record_consent",
        "record_opt_out",
        "resolve_recipient",
        "unsubscribe_url",
    ]
