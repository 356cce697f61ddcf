"""Standard Webhooks signatures: ``whsec_`` secrets and the three ``webhook-*`` headers.

See https://www.standardwebhooks.com/: the signed content is ``{id}.{timestamp}.{body}``,
HMAC-SHA256 with the base64-decoded secret, sent as ``v1,<base64>``; several signatures
(during a secret rotation) are separated by spaces and a receiver accepts any one.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import secrets as _secrets
from collections.abc import Sequence

from standardwebhooks.webhooks import Webhook

__all__ = ["SECRET_PREFIX", "new_secret", "signed_headers"]

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
#: 24 random bytes, as Svix issues them; Standard Webhooks asks for 24 to 64.
SECRET_BYTES = 24


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(
    *, msg_id: str, timestamp: dt.datetime, body: str, secrets: Sequence[str]
) -> dict[str, str]:
    """The ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers of ``body``.

    :param msg_id: the message id, the same on every retry (receivers dedupe on it).
    :param timestamp: when this attempt is sent (signed, so receivers can refuse replays).
    :param body: the exact text sent.
    :param secrets: each secret adds one ``v1,…`` signature.
    """
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(math.floor(timestamp.timestamp())),
        "webhook-signature": " ".join(
            Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets
        ),
    }
