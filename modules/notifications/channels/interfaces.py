"""The contract of a channel provider, the message it sends and the errors it raises.

::

    Exception
    └── ChannelError             a provider could not send; ``transient`` says whether to retry
    UnprocessableError (gateway)
    └── ChannelNotConfigured     the tenant has no (usable) credentials for the channel
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from marshmallow import Schema

from almacen.gateway.errors import UnprocessableError

__all__ = ["ChannelError", "ChannelNotConfigured", "ChannelProvider", "OutboundMessage"]


@dataclasses.dataclass(frozen=True)
class OutboundMessage:
    """One rendered message for one address, as a provider sends it."""

    message_id: str
    channel: str
    #: The address on the channel: an e-mail address, an E.164 number, a webhook subject.
    to: str
    subject: str | None
    text: str
    html: str | None
    #: Extra headers, e.g. ``List-Unsubscribe`` (set by sending; e-mail puts them on the MIME
    #: message, HTTP providers pass them along).
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)


@runtime_checkable
class ChannelProvider(Protocol):
    """Sends messages of one channel for a tenant, with that tenant's credentials.

    Implementations must never log or put the credentials in an error.
    """

    #: Unique among providers (``smtp``, ``http_sms``, ``apprise``…).
    name: str
    #: The channel served: ``email``, ``sms``, ``whatsapp``, ``webhook`` or a new one.
    channel: str
    #: Loads and validates the tenant's credentials. Fields with ``metadata={"public": True}``
    #: may be shown back to the tenant; every other field is secret.
    credentials_schema: type[Schema]

    def send(self, message: OutboundMessage, credentials: Mapping[str, Any]) -> str:
        """Send ``message``; return the provider's id for it (receipts refer to it).

        :raises ChannelError: when it could not be sent (``transient`` → retry later).
        """
        ...


class ChannelError(Exception):
    """Raised by a provider that could not send a message.

    :param reason: why, for the message's status (never a credential).
    :param transient: true when a retry may succeed (a timeout, a 4xx SMTP reply, HTTP 429
        or 5xx); false when it never will (a refused address, bad credentials).
    """

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class ChannelNotConfigured(UnprocessableError):
    """Raised when the tenant has no credentials for a channel (or its provider is gone)."""
