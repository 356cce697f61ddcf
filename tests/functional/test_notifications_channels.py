"""Channel credentials through HTTP: stored per tenant, validated by the provider's schema,
never returned nor logged; the providers send to real servers on 127.0.0.1; plugins add
channels through ``almacen_notifications_channels``."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from marshmallow import Schema, fields
from standardwebhooks.webhooks import Webhook

from almacen import hookimpl
from almacen.gateway.app import gateway_of
from almacen.modules.notifications.channels import (
    ChannelError,
    ChannelNotConfigured,
    OutboundMessage,
    configured_channels,
    provider_for,
    receipt_secret,
)
from tests.common.actors import Admin, TenantHandle, assert_problem
from tests.common.receiver import Receiver

BASE = "/v1/notifications"
PASSWORD = "s3cr3t-Pa55word-7d1f"
TOKEN = "tok-9f8e7d6c5b4a-never-shown"

pytestmark = pytest.mark.modules("notifications")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    try:
        yield server
    finally:
        server.close()


def smtp_document(**extra: Any) -> dict[str, Any]:
    return {
        "provider": "smtp",
        "credentials": {
            "host": "smtp.acme.example",
            "port": 587,
            "username": "apikey-user-4411",
            "password": PASSWORD,
            "from_address": "cobranzas@acme.example",
            **extra,
        },
    }


@pytest.fixture(scope="module")
def local_app(make_app: Callable[..., Any]) -> Any:
    """An app whose operator lets providers reach 127.0.0.1 (where the test servers are)."""
    return make_app(webhook_allowed_networks=("127.0.0.0/8",))


@pytest.fixture
def local_tenant(local_app: Any, admin: Admin) -> TenantHandle:
    return Admin(local_app.test_client(), admin.headers["X-API-Key"]).new_tenant(
        modules=["notifications"]
    )


@pytest.fixture
def session_for(local_app: Any) -> Iterator[Callable[[str], Any]]:
    """Open read-only sessions for tenants, as the sending worker does; closed after the test."""
    opened: list[Any] = []

    def open_for(tenant_id: str) -> Any:
        session = gateway_of(local_app).db.session(tenant_id=tenant_id)
        opened.append(session)
        return session

    yield open_for
    for session in opened:
        session.close()


def message(to: str, channel: str) -> OutboundMessage:
    return OutboundMessage(
        message_id="msg-1",
        channel=channel,
        to=to,
        subject=None,
        text="Su cuota vence mañana",
        html=None,
        headers={},
    )


class Captured(logging.Handler):
    """Keeps every record, formatted and with all its attributes."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.args!r} {record.__dict__!r}")


@pytest.fixture
def captured_logs() -> Iterator[Captured]:
    """Every log record of the ``almacen`` loggers (which do not propagate) and the root's."""
    handler = Captured()
    loggers = [logging.getLogger("almacen"), logging.getLogger()]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


@pytest.fixture(scope="module")
def traced_app(make_app: Callable[..., Any]) -> Any:
    """An app that logs every hook call with its arguments and results."""
    return make_app(trace_plugins=True, webhook_allowed_networks=("127.0.0.0/8",))


def test_credentials_are_stored_but_never_returned_nor_logged(
    traced_app: Any, admin: Admin, captured_logs: Captured, receiver: Receiver
) -> None:
    client = traced_app.test_client()
    tenant = Admin(client, admin.headers["X-API-Key"]).new_tenant(modules=["notifications"])
    created = tenant.put(f"{BASE}/channels/email", json=smtp_document())
    assert created.status_code == 201, created.text
    answer = created.json()
    assert answer["configured"] is True and answer["provider"] == "smtp"
    assert answer["settings"] == {
        "host": "smtp.acme.example",
        "port": 587,
        "security": "starttls",
        "from_address": "cobranzas@acme.example",
        "from_name": None,
        "reply_to": None,
        "timeout_seconds": 10.0,
        "verify_certificate": True,
    }
    assert answer["receipt_secret"].startswith("whsec_")
    replaced = tenant.put(f"{BASE}/channels/email", json=smtp_document(port=2525))
    assert replaced.status_code == 200
    assert "receipt_secret" not in replaced.json()  # shown once
    assert replaced.json()["settings"]["port"] == 2525
    sms = {"provider": "http_sms", "credentials": {"token": TOKEN, "url": receiver.url()}}
    responses = [
        created,
        replaced,
        tenant.get(f"{BASE}/channels/email"),
        tenant.put(f"{BASE}/channels/sms", json=sms),
        tenant.get(f"{BASE}/channels"),
        tenant.put(f"{BASE}/channels/email", json=smtp_document(port="x")),
        tenant.put(
            f"{BASE}/channels/sms",
            json={"provider": "http_sms", "credentials": {"token": TOKEN, "url": "nope"}},
        ),
    ]
    receiver.codes = [500]
    with gateway_of(traced_app).db.session(tenant_id=tenant.id) as session:
        provider, credentials = provider_for(session, tenant.id, "sms")
        with pytest.raises(ChannelError) as failed:
            provider.send(message("+573001234567", "sms"), credentials)
    for response in responses:
        for secret in (PASSWORD, TOKEN, "apikey-user-4411"):
            assert secret not in response.text
    assert TOKEN not in failed.value.reason
    assert captured_logs.lines  # the hook trace logged every call: something was written
    logged = "\n".join(captured_logs.lines)
    for secret in (PASSWORD, TOKEN, "apikey-user-4411"):
        assert secret not in logged


def test_bad_credentials_are_422_with_pointers_and_change_nothing(tenant: TenantHandle) -> None:
    body = assert_problem(
        tenant.put(
            f"{BASE}/channels/email",
            json=smtp_document(port=0, security="tls9", from_address="not-an-address", extra=1),
        ),
        422,
    )
    assert {e["pointer"] for e in body["errors"]} == {
        "/credentials/port",
        "/credentials/security",
        "/credentials/from_address",
        "/credentials/extra",
    }
    unknown = assert_problem(
        tenant.put(f"{BASE}/channels/email", json={"provider": "pigeon", "credentials": {}}), 422
    )
    assert unknown["errors"][0]["pointer"] == "/provider"
    other = assert_problem(
        tenant.put(f"{BASE}/channels/sms", json=smtp_document()), 422
    )  # smtp serves email, not sms
    assert other["errors"][0]["pointer"] == "/provider"
    assert_problem(tenant.get(f"{BASE}/channels/email"), 404)


def test_catalogue_lists_channels_and_providers(tenant: TenantHandle) -> None:
    tenant.put(f"{BASE}/channels/email", json=smtp_document())
    catalogue = tenant.get(f"{BASE}/channels").json()
    channels = {c["channel"]: c for c in catalogue["channels"]}
    assert {"email", "sms", "whatsapp", "webhook"} <= set(channels)
    assert channels["email"]["configured"] is True
    assert channels["sms"] == {"channel": "sms", "configured": False}
    names = {p["name"]: p for p in catalogue["providers"]}
    assert {"smtp", "http_sms", "http_whatsapp", "webhook"} <= set(names)
    assert "password" not in names["smtp"]["public_fields"]
    assert "token" not in names["http_sms"]["public_fields"]
    assert tenant.delete(f"{BASE}/channels/email").status_code == 204
    assert_problem(tenant.delete(f"{BASE}/channels/email"), 404)


def test_tenants_cannot_read_or_change_each_others_channels(
    session_for: Callable[[str], Any],
    tenant: TenantHandle,
    other_tenant: TenantHandle,
) -> None:
    tenant.put(f"{BASE}/channels/email", json=smtp_document())
    assert_problem(other_tenant.get(f"{BASE}/channels/email"), 404)
    assert_problem(other_tenant.delete(f"{BASE}/channels/email"), 404)
    other_tenant.put(f"{BASE}/channels/email", json=smtp_document(host="theirs.example"))
    assert tenant.get(f"{BASE}/channels/email").json()["settings"]["host"] == "smtp.acme.example"
    session = session_for(tenant.id)
    provider, credentials = provider_for(session, tenant.id, "email")
    assert provider.name == "smtp" and credentials["password"] == PASSWORD
    assert configured_channels(session, tenant.id) == ["email"]
    ours = receipt_secret(session, tenant.id, "smtp")
    with pytest.raises(ChannelNotConfigured):
        provider_for(session, tenant.id, "sms")
    with pytest.raises(ChannelNotConfigured):
        receipt_secret(session, tenant.id, "http_sms")
    session.close()  # SQLite: one writer at a time
    theirs = session_for(other_tenant.id)
    assert provider_for(theirs, other_tenant.id, "email")[1]["host"] == "theirs.example"
    assert receipt_secret(theirs, other_tenant.id, "smtp") != ours


def test_http_provider_posts_json_with_the_bearer_token(
    session_for: Callable[[str], Any], local_tenant: TenantHandle, receiver: Receiver
) -> None:
    tenant = local_tenant
    document = {
        "provider": "http_sms",
        "credentials": {"url": receiver.url("/sms"), "token": TOKEN, "sender": "ACME"},
    }
    assert tenant.put(f"{BASE}/channels/sms", json=document).status_code == 201
    whatsapp = {**document, "provider": "http_whatsapp"}
    assert tenant.put(f"{BASE}/channels/whatsapp", json=whatsapp).status_code == 201
    session = session_for(tenant.id)
    provider, credentials = provider_for(session, tenant.id, "sms")
    assert provider.send(message("+573001234567", "sms"), credentials) == "msg-1"
    [received] = receiver.received
    assert received.path == "/sms"
    assert received.headers["authorization"] == f"Bearer {TOKEN}"
    assert received.headers["idempotency-key"] == "msg-1"
    assert json.loads(received.body) == {
        "message_id": "msg-1",
        "channel": "sms",
        "from": "ACME",
        "to": "+573001234567",
        "text": "Su cuota vence mañana",
        "headers": {},
    }
    receiver.codes = [429, 400]
    with pytest.raises(ChannelError) as limited:
        provider.send(message("+573001234567", "sms"), credentials)
    assert limited.value.transient is True
    with pytest.raises(ChannelError) as refused:
        provider.send(message("+573001234567", "sms"), credentials)
    assert refused.value.transient is False and TOKEN not in refused.value.reason


def test_webhook_channel_signs_with_standard_webhooks(
    session_for: Callable[[str], Any], local_tenant: TenantHandle, receiver: Receiver
) -> None:
    tenant = local_tenant
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    document = {"provider": "webhook", "credentials": {"url": receiver.url(), "secret": secret}}
    assert tenant.put(f"{BASE}/channels/webhook", json=document).status_code == 201
    bad = {"provider": "webhook", "credentials": {"url": receiver.url(), "secret": "plain"}}
    body = assert_problem(tenant.put(f"{BASE}/channels/webhook", json=bad), 422)
    assert body["errors"][0]["pointer"] == "/credentials/secret"
    session = session_for(tenant.id)
    provider, credentials = provider_for(session, tenant.id, "webhook")
    provider.send(message("debtor-42", "webhook"), credentials)
    [received] = receiver.received
    payload = Webhook(secret).verify(received.body, received.headers)
    assert payload["type"] == "notifications.message"
    assert payload["data"]["to"] == "debtor-42"
    assert payload["data"]["text"] == "Su cuota vence mañana"


def test_provider_urls_must_reach_public_addresses(tenant: TenantHandle) -> None:
    # The default app allows no private network: loopback and link-local are refused.
    for url in ("http://127.0.0.1:9/send", "http://169.254.169.254/latest/meta-data"):
        document = {"provider": "http_sms", "credentials": {"url": url, "token": TOKEN}}
        body = assert_problem(
            tenant.put(f"{BASE}/channels/sms", json=document), 422, slug="webhook-target-refused"
        )
        assert body["errors"][0]["pointer"] == "/credentials/url"
        assert TOKEN not in str(body)
    assert_problem(tenant.get(f"{BASE}/channels/sms"), 404)


class PigeonSchema(Schema):
    loft = fields.String(required=True, metadata={"public": True})
    ring_code = fields.String(required=True)


class Pigeon:
    """A plugin provider for a new channel; remembers what it was asked to send."""

    name = "pigeon_post"
    channel = "pigeon"
    credentials_schema = PigeonSchema

    def __init__(self) -> None:
        self.sent: list[tuple[OutboundMessage, Mapping[str, Any]]] = []

    def send(self, message: OutboundMessage, credentials: Mapping[str, Any]) -> str:
        self.sent.append((message, credentials))
        return f"pigeon-{len(self.sent)}"


class Impostor(Pigeon):
    """Tries to take the built-in SMTP provider's name: ignored."""

    name = "smtp"
    channel = "email"


class PigeonPlugin:
    def __init__(self) -> None:
        self.pigeon = Pigeon()

    @hookimpl
    def almacen_notifications_channels(self) -> list[Pigeon]:
        return [self.pigeon, Impostor()]


@pytest.fixture(scope="module")
def pigeon_app(make_app: Callable[..., Any]) -> tuple[Any, PigeonPlugin]:
    plugin = PigeonPlugin()
    return make_app(plugins=[("pigeons", plugin)]), plugin


def test_hook_almacen_notifications_channels(
    pigeon_app: tuple[Any, PigeonPlugin], admin: Admin
) -> None:
    app, plugin = pigeon_app
    client = app.test_client()
    operator = Admin(client, admin.headers["X-API-Key"])
    tenant = operator.new_tenant(modules=["notifications"])
    catalogue = tenant.get(f"{BASE}/channels").json()
    providers = {p["name"]: p for p in catalogue["providers"]}
    assert providers["pigeon_post"] == {
        "name": "pigeon_post",
        "channel": "pigeon",
        "public_fields": ["loft"],
    }
    assert providers["smtp"]["channel"] == "email"
    assert len([p for p in catalogue["providers"] if p["name"] == "smtp"]) == 1
    bad = tenant.put(f"{BASE}/channels/pigeon", json={"provider": "pigeon_post", "credentials": {}})
    assert {e["pointer"] for e in assert_problem(bad, 422)["errors"]} == {
        "/credentials/loft",
        "/credentials/ring_code",
    }
    document = {"provider": "pigeon_post", "credentials": {"loft": "north", "ring_code": "R-77"}}
    answer = tenant.put(f"{BASE}/channels/pigeon", json=document).json()
    assert answer["settings"] == {"loft": "north"}
    template = tenant.put(f"{BASE}/templates/hello/pigeon/en_US", json={"text": "Coo {{ n }}"})
    assert template.status_code == 201, template.text
    with gateway_of(app).db.session(tenant_id=tenant.id) as session:
        provider, credentials = provider_for(session, tenant.id, "pigeon")
        assert provider.send(message("loft-9", "pigeon"), credentials) == "pigeon-1"
    assert plugin.pigeon.sent[0][1] == {"loft": "north", "ring_code": "R-77"}
