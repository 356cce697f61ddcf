"""Standard Webhooks signing: secrets, headers, and verification by the reference library."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from almacen.gateway.webhooks.signing import new_secret, signed_headers

BODY = '{"id":"e1","type":"good.echoed","data":{"text":"hi"}}'


def test_a_new_secret_is_whsec_and_24_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert new_secret() != secret


def test_headers_verify_with_the_reference_library() -> None:
    secret = new_secret()
    now = dt.datetime.now(dt.UTC)

    headers = signed_headers(msg_id="msg_1", timestamp=now, body=BODY, secrets=[secret])

    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(BODY, headers)["data"] == {"text": "hi"}


def test_each_secret_adds_a_signature_and_each_verifies() -> None:
    old, new = new_secret(), new_secret()
    headers = signed_headers(
        msg_id="m", timestamp=dt.datetime.now(dt.UTC), body=BODY, secrets=[new, old]
    )

    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_a_changed_body_or_an_old_timestamp_does_not_verify() -> None:
    secret = new_secret()
    headers = signed_headers(
        msg_id="m", timestamp=dt.datetime.now(dt.UTC), body=BODY, secrets=[secret]
    )
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace("hi", "ho"), headers)

    stale = signed_headers(
        msg_id="m",
        timestamp=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        body=BODY,
        secrets=[secret],
    )
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, stale)
