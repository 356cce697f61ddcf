"""The SMTP round trip: a local SMTP server (aiosmtpd), the tenant's e-mail channel pointed
at it through the API, a message sent through the API and the worker, and the message the
server received read back: headers (RFC 8058 one-click unsubscribe among them), body and
encoding. Then the one-click link opts the debtor out, and nothing more reaches them."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from almacen.modules.notifications.channels.registry import builtin_providers
from almacen.modules.notifications.channels.smtp import SmtpProvider
from tests.common.actors import Admin, TenantHandle
from tests.common.notifications_sending import (
    BASE,
    configure_channel,
    message,
    midday_zone,
    put_template,
    send,
    sender_of,
)

pytestmark = pytest.mark.modules("notifications")

SUBJECT = "Recordatorio de pago — {{ name }}"
TEXT = "Hola {{ name }}, su cuota vence mañana.\nPague aquí: {{ link }}\n"
HTML = "<p>Hola <b>{{ name }}</b>, su cuota vence mañana.</p>"


class Inbox:
    """An aiosmtpd handler keeping every envelope it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages_to(self, address: str) -> list[tuple[Any, EmailMessage]]:
        """Envelopes for ``address`` and their parsed messages."""
        found = []
        for envelope in self.envelopes:
            if address in envelope.rcpt_tos:
                parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
                assert isinstance(parsed, EmailMessage)
                found.append((envelope, parsed))
        return found


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A local SMTP server on a free port, stopped after the test."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        # The SMTP provider keeps its connection for the next message: close it first.
        for provider in builtin_providers():
            if isinstance(provider, SmtpProvider):
                provider.close()
        controller.stop()


def drain(app: Any) -> None:
    sender = sender_of(app)
    while sender.send_due():
        pass


def ready(admin: Admin, tenant: TenantHandle, port: int) -> None:
    """Public links on https://cobranza.example; e-mail through the local server."""
    config = {"public_base_url": "https://cobranza.example"}
    assert admin.subscribe(tenant.id, "notifications", config).status_code == 200
    credentials = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from_address": "cobranza@example.com",
        "from_name": "Cobranza Ejemplo",
    }
    configure_channel(tenant, "email", "smtp", credentials)
    put_template(tenant, "aviso", "email", "es_CO", TEXT, subject=SUBJECT, html=HTML)


def request(address: str) -> dict[str, Any]:
    return {
        "recipient": {"email": address, "time_zone": midday_zone(), "country": "US"},
        "channel": "email",
        "template": "aviso",
        "locale": "es_CO",
        "data": {"name": "Ana", "link": "https://pagos.example/a1"},
    }


def test_smtp_round_trip_headers_body_encoding_and_one_click_unsubscribe(
    app: Any, admin: Admin, tenant: TenantHandle, smtp_server: tuple[Inbox, int], unique: Any
) -> None:
    inbox, port = smtp_server
    ready(admin, tenant, port)
    address = f"{unique('ana')}@example.org"
    made = send(tenant, request(address))
    assert made["status"] == "queued"
    assert inbox.envelopes == []
    drain(app)

    [(envelope, received)] = inbox.messages_to(address)
    assert envelope.mail_from == "cobranza@example.com"
    assert envelope.rcpt_tos == [address]
    # Headers: who, what, and RFC 8058 one-click unsubscribe.
    assert received["To"] == address
    assert received["From"].addresses[0].addr_spec == "cobranza@example.com"
    assert received["From"].addresses[0].display_name == "Cobranza Ejemplo"
    assert received["Subject"] == "Recordatorio de pago — Ana"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(https://[^>]+)>", str(received["List-Unsubscribe"]))
    assert link is not None, received["List-Unsubscribe"]
    url = urlsplit(link.group(1))
    assert url.netloc == "cobranza.example"
    assert url.path.startswith(f"{BASE}/unsubscribe/{tenant.id}/")
    sent = message(tenant, made["id"])
    assert sent["status"] == "sent"
    assert received["Message-ID"] == sent["provider_message_id"]
    # Encoding: the raw message is 7-bit ASCII; every part is UTF-8, quoted-printable.
    raw: bytes = envelope.content
    assert all(byte < 128 for byte in raw)
    assert b"=?utf-8?" in raw.lower()  # the subject as an RFC 2047 encoded word
    assert received.get_content_type() == "multipart/alternative"
    plain = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    for part in (plain, html):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    # SMTP carries lines ending in CRLF.
    assert plain.get_content().replace("\r\n", "\n") == (
        "Hola Ana, su cuota vence mañana.\nPague aquí: https://pagos.example/a1\n"
    )
    assert html.get_content().strip() == "<p>Hola <b>Ana</b>, su cuota vence mañana.</p>"

    # A message accepted before the opt-out, then the one-click POST (as a mail client does).
    pending = send(tenant, request(address))
    clicked = tenant.client.post(
        url.path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert clicked.status_code == 200, clicked.text
    assert clicked.json() == {"unsubscribed": True, "channel": "email"}
    drain(app)
    assert message(tenant, pending["id"])["status"] == "blocked"
    later = send(tenant, request(address))
    assert later["status"] == "blocked" and later["reasons"]
    drain(app)
    assert len(inbox.messages_to(address)) == 1  # nothing after the opt-out
