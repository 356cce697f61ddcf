"""The generic signed-webhook channel: a message as a Standard Webhooks POST.

The tenant's endpoint receives ``{"type": "notifications.message", "timestamp": …,
"data": {message_id, channel, to, subject, text, html, headers}}`` with the ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` headers of https://www.standardwebhooks.com/,
signed with the secret the tenant configured (as the gateway signs its event webhooks, so one
verifier serves both). 408, 429, 5xx and network errors are transient.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

import httpx
from marshmallow import Schema, ValidationError, fields

from almacen.gateway.db import utcnow
from almacen.gateway.webhooks.signing import SECRET_PREFIX, signed_headers

from .interfaces import ChannelError, OutboundMessage

__all__ = ["WebhookCredentialsSchema", "WebhookProvider"]


def _whsec(value: str) -> None:
    raw = value.removeprefix(SECRET_PREFIX)
    try:
        size = len(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        raise ValidationError("must be whsec_ followed by base64") from None
    if not value.startswith(SECRET_PREFIX) or not 24 <= size <= 64:
        raise ValidationError("must be whsec_ followed by base64 of 24 to 64 bytes")


class WebhookCredentialsSchema(Schema):
    """The endpoint and the Standard Webhooks secret that signs what it receives."""

    url = fields.Url(
        required=True, schemes={"http", "https"}, require_tld=False, metadata={"public": True}
    )
    secret = fields.String(required=True, validate=_whsec)
    timeout_seconds = fields.Float(load_default=10.0, metadata={"public": True})


class WebhookProvider:
    """The built-in ``webhook`` channel.

    :param transport: an httpx transport (tests pass a mock one); the default is the network.
    """

    name = "webhook"
    channel = "webhook"
    credentials_schema: type[Schema] = WebhookCredentialsSchema

    def __init__(self, *, transport: httpx.BaseTransport | None = None) -> None:
        self._client = httpx.Client(transport=transport, follow_redirects=False)

    def send(self, message: OutboundMessage, credentials: Mapping[str, Any]) -> str:
        """POST the signed message; the provider's id is the message id (``webhook-id``)."""
        now = utcnow()
        body = json.dumps(
            {
                "type": "notifications.message",
                "timestamp": now.isoformat(),
                "data": {
                    "message_id": message.message_id,
                    "channel": message.channel,
                    "to": message.to,
                    "subject": message.subject,
                    "text": message.text,
                    "html": message.html,
                    "headers": dict(message.headers),
                },
            },
            separators=(",", ":"),
        )
        headers = signed_headers(
            msg_id=message.message_id, timestamp=now, body=body, secrets=[credentials["secret"]]
        )
        try:
            response = self._client.post(
                credentials["url"],
                content=body.encode(),
                headers={**headers, "Content-Type": "application/json"},
                timeout=credentials.get("timeout_seconds", 10.0),
            )
        except httpx.HTTPError as exc:
            raise ChannelError(
                f"cannot reach the endpoint: {type(exc).__name__}", transient=True
            ) from None
        status = response.status_code
        if not 200 <= status < 300:
            transient = status in (408, 429) or status >= 500
            raise ChannelError(f"the endpoint answered HTTP {status}", transient=transient)
        return message.message_id
