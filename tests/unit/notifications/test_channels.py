"""Channel providers without a server: the registry's order, the HTTP and webhook providers'
classification of answers (through httpx's mock transport) and the public fields."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

import almacen.modules.notifications.channels as channels
from almacen.modules.notifications.channels import ChannelError, ChannelProvider, OutboundMessage
from almacen.modules.notifications.channels.credentials import public_settings
from almacen.modules.notifications.channels.http import HttpProvider
from almacen.modules.notifications.channels.registry import builtin_providers, providers
from almacen.modules.notifications.channels.smtp import SmtpProvider
from almacen.modules.notifications.channels.webhook import WebhookProvider

MESSAGE = OutboundMessage(
    message_id="m1", channel="sms", to="+573001234567", subject=None, text="Hola", html=None
)
HTTP = {"url": "https://sms.example/send", "token": "t0k", "sender": "ACME", "timeout_seconds": 1}


def test_public_names() -> None:
    assert sorted(channels.__all__) == [
        "ChannelError",
        "ChannelNotConfigured",
        "ChannelProvider",
        "OutboundMessage",
        "configured_channels",
        "provider_for",
        "providers",
        "receipt_secret",
    ]


def test_builtins_satisfy_the_protocol() -> None:
    names = [(p.name, p.channel) for p in builtin_providers()]
    assert names == [
        ("smtp", "email"),
        ("http_sms", "sms"),
        ("http_whatsapp", "whatsapp"),
        ("webhook", "webhook"),
    ]
    for provider in builtin_providers():
        assert isinstance(provider, ChannelProvider)


class Fake:
    def __init__(self, name: str, channel: str) -> None:
        self.name, self.channel = name, channel

    def send(self, message: OutboundMessage, credentials: Mapping[str, Any]) -> str:
        return "x"


def session_with(*results: Any) -> Any:
    hook = SimpleNamespace(almacen_notifications_channels=lambda: list(results))
    return SimpleNamespace(info={"registry": SimpleNamespace(hook=hook)})


def test_plugins_come_after_builtins_and_cannot_take_a_name() -> None:
    first, second, impostor = Fake("fax", "fax"), Fake("fax", "fax"), Fake("smtp", "email")
    found = providers(session_with([first, impostor], None, [second]))
    assert list(found)[:4] == ["smtp", "http_sms", "http_whatsapp", "webhook"]
    assert found["fax"] is first
    assert isinstance(found["smtp"], SmtpProvider)
    assert set(providers(None)) == {"smtp", "http_sms", "http_whatsapp", "webhook"}


def provider_answering(handler: Any) -> HttpProvider:
    return HttpProvider("sms", transport=httpx.MockTransport(handler))


def test_http_provider_reads_the_provider_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json={"id": "carrier-991"})

    assert provider_answering(handler).send(MESSAGE, HTTP) == "carrier-991"
    [request] = seen
    assert request.headers["authorization"] == "Bearer t0k"
    assert json.loads(request.content)["to"] == "+573001234567"


@pytest.mark.parametrize(
    ("status", "transient"),
    [(400, False), (401, False), (404, False), (408, True), (429, True), (500, True), (503, True)],
)
def test_http_provider_classifies_statuses(status: int, transient: bool) -> None:
    provider = provider_answering(lambda request: httpx.Response(status))
    with pytest.raises(ChannelError) as raised:
        provider.send(MESSAGE, HTTP)
    assert raised.value.transient is transient
    assert str(status) in raised.value.reason and "t0k" not in raised.value.reason


def test_network_errors_are_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    with pytest.raises(ChannelError) as raised:
        provider_answering(handler).send(MESSAGE, HTTP)
    assert raised.value.transient is True
    webhook = WebhookProvider(transport=httpx.MockTransport(handler))
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    with pytest.raises(ChannelError) as failed:
        webhook.send(MESSAGE, {"url": "https://hooks.example/", "secret": secret})
    assert failed.value.transient is True


def test_public_settings_show_marked_fields_only() -> None:
    smtp = SmtpProvider()
    settings = public_settings(smtp, {"host": "h", "password": "p", "username": "u", "port": 25})
    assert settings == {"host": "h", "port": 25}
    assert public_settings(HttpProvider("sms"), HTTP) == {
        "url": "https://sms.example/send",
        "sender": "ACME",
        "timeout_seconds": 1,
    }
