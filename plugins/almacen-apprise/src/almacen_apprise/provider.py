"""A channel provider that sends through one Apprise URL per tenant and channel.

The URL is the tenant's secret (it carries the service's token); ``{to}`` in it is replaced
by the recipient's address, URL-quoted. Apprise's own logger is silenced: at debug level it
can write request details, and credentials must never reach a log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import apprise  # type: ignore[import-untyped]
from marshmallow import Schema, ValidationError, fields, validate

from almacen.modules.notifications.channels import ChannelError, OutboundMessage

__all__ = ["PROVIDERS", "AppriseCredentialsSchema", "AppriseProvider"]

_apprise_log = logging.getLogger("apprise")
_apprise_log.propagate = False
_apprise_log.addHandler(logging.NullHandler())


def _url_for(url: str, to: str) -> str:
    return url.replace("{to}", quote(to, safe=""))


def _supported(url: str) -> None:
    # Checked with a stand-in recipient; the message never names the URL (it is secret).
    if apprise.Apprise.instantiate(_url_for(url, "recipient")) is None:
        raise ValidationError("not an Apprise URL this installation supports")


class AppriseCredentialsSchema(Schema):
    """One Apprise URL (secret), with ``{to}`` for the recipient, and a title prefix."""

    url = fields.String(required=True, validate=[validate.Length(min=4, max=2000), _supported])
    title_prefix = fields.String(
        load_default=None, validate=validate.Length(max=100), metadata={"public": True}
    )


class AppriseProvider:
    """Sends a message's subject and text as an Apprise notification."""

    credentials_schema: type[Schema] = AppriseCredentialsSchema

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.name = "apprise" if channel == "apprise" else f"apprise_{channel}"

    def send(self, message: OutboundMessage, credentials: Mapping[str, Any]) -> str:
        """Notify through the tenant's URL; the provider id is the message id."""
        notifier = apprise.Apprise()
        if not notifier.add(_url_for(credentials["url"], message.to)):
            raise ChannelError("the Apprise URL is not valid", transient=False)
        title = " ".join(p for p in (credentials.get("title_prefix"), message.subject) if p)
        if not notifier.notify(body=message.text, title=title):
            raise ChannelError("Apprise could not deliver the notification", transient=True)
        return message.message_id


PROVIDERS: tuple[AppriseProvider, ...] = (AppriseProvider("apprise"), AppriseProvider("telegram"))
