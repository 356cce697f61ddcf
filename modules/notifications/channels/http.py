"""The reference HTTP provider for SMS and WhatsApp: one JSON POST per message.

Wire format (what a gateway in front of a carrier, or a small adapter to Twilio, Infobip or
Meta's Cloud API, implements)::

    POST <url>
    Authorization: Bearer <token>
    Content-Type: application/json
    Idempotency-Key: <message_id>

    {"message_id": "…", "channel": "sms" | "whatsapp", "from": "<sender>", "to": "+57…",
     "text": "…", "headers": {…}}

A 2xx answer accepts the message; its JSON body's ``id`` (when there is one) is the
provider's id, which receipts later name. 408, 429 and 5xx — and timeouts or refused
connections — are transient (retried with backoff); any other status is permanent.
Receipts and inbound messages come back on this module's signed callback endpoints.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from marshmallow import Schema, fields, validate

from .interfaces import ChannelError, OutboundMessage

__all__ = ["HttpCredentialsSchema", "HttpProvider"]


class HttpCredentialsSchema(Schema):
    """Where to POST messages and the bearer token that authorises it."""

    url = fields.Url(
        required=True, schemes={"http", "https"}, require_tld=False, metadata={"public": True}
    )
    token = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    #: The sender: a number, short code or WhatsApp business number.
    sender = fields.String(
        load_default=None, validate=validate.Length(max=64), metadata={"public": True}
    )
    timeout_seconds = fields.Float(
        load_default=10.0, validate=validate.Range(min=0.1, max=60), metadata={"public": True}
    )


class HttpProvider:
    """POSTs each message as JSON with a bearer token (``http_sms``, ``http_whatsapp``).

    :param transport: an httpx transport (tests pass a mock one); the default is the network.
    """

    credentials_schema: type[Schema] = HttpCredentialsSchema

    def __init__(self, channel: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.channel = channel
        self.name = f"http_{channel}"
        self._client = httpx.Client(transport=transport, follow_redirects=False)

    def send(self, message: OutboundMessage, credentials: Mapping[str, Any]) -> str:
        """POST ``message``; the provider's id is the answer's ``id`` (else the message id)."""
        body = {
            "message_id": message.message_id,
            "channel": self.channel,
            "from": credentials.get("sender"),
            "to": message.to,
            "text": message.text,
            "headers": dict(message.headers),
        }
        try:
            response = self._client.post(
                credentials["url"],
                json=body,
                headers={
                    "Authorization": f"Bearer {credentials['token']}",
                    "Idempotency-Key": message.message_id,
                },
                timeout=credentials.get("timeout_seconds", 10.0),
            )
        except httpx.HTTPError as exc:
            raise ChannelError(
                f"cannot reach the provider: {type(exc).__name__}", transient=True
            ) from None
        status = response.status_code
        if not 200 <= status < 300:
            transient = status in (408, 429) or status >= 500
            raise ChannelError(f"the provider answered HTTP {status}", transient=transient)
        try:
            answer: Any = response.json()
        except ValueError:
            answer = None
        provider_id = answer.get("id") if isinstance(answer, dict) else None
        return str(provider_id) if provider_id else message.message_id
