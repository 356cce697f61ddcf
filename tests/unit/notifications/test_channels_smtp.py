"""The SMTP provider against a real SMTP server on 127.0.0.1 (aiosmtpd): headers, body,
charset, multipart, connection reuse and how failures are classified."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from almacen.modules.notifications.channels import ChannelError, OutboundMessage
from almacen.modules.notifications.channels.smtp import SmtpCredentialsSchema, SmtpProvider


class Mailbox:
    """An aiosmtpd handler that keeps what it receives and refuses one address."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []
        self.connections = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def credentials(port: int, **extra: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = SmtpCredentialsSchema().load(
        {
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "from_address": "cobranzas@acme.example",
            "from_name": "Cobranzas Acme Ñandú",
            **extra,
        }
    )
    return loaded


UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://almacen.example/v1/notifications/unsubscribe/t1/abc>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def message(to: str = "ana@deudor.example", **fields: Any) -> OutboundMessage:
    base: dict[str, Any] = {
        "message_id": "m0001",
        "channel": "email",
        "to": to,
        "subject": "Recordatorio: su cuota vence mañana",
        "text": "Hola Ana, su cuota de $150.000,00 vence mañana.\n",
        "html": "<p>Hola Ana, su cuota de <b>$150.000,00</b> vence mañana.</p>\n",
        "headers": UNSUBSCRIBE,
    }
    return OutboundMessage(**{**base, **fields})


def test_one_message_arrives_with_headers_body_and_charset(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    provider = SmtpProvider()
    try:
        provider_id = provider.send(message(), credentials(port))
    finally:
        provider.close()
    assert provider_id == "<m0001@acme.example>"
    [(sender, recipients, received)] = handler.messages
    assert sender == "cobranzas@acme.example" and recipients == ["ana@deudor.example"]
    assert received["Subject"] == "Recordatorio: su cuota vence mañana"
    assert received["From"] == "Cobranzas Acme Ñandú <cobranzas@acme.example>"
    assert received["To"] == "ana@deudor.example"
    assert received["Message-ID"] == "<m0001@acme.example>"
    assert received["Date"]
    assert received["List-Unsubscribe"] == UNSUBSCRIBE["List-Unsubscribe"]
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received.get_content_type() == "multipart/alternative"
    text, html = received.iter_parts()
    for part in (text, html):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    assert text.get_content_type() == "text/plain"
    # On the wire every line ends with CRLF (RFC 5322), whatever the text had.
    assert text.get_content() == "Hola Ana, su cuota de $150.000,00 vence mañana.\r\n"
    assert html.get_content_type() == "text/html"
    assert "<b>$150.000,00</b> vence mañana" in html.get_content()
    # The raw message is 7-bit: the non-ASCII subject is an encoded word.
    raw = received.as_bytes()
    assert all(byte < 128 for byte in raw.split(b"\n\n", 1)[0])


def test_text_only_message_is_a_single_part(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    provider = SmtpProvider()
    provider.send(message(html=None, headers={}), credentials(port, reply_to="pagos@acme.example"))
    provider.close()
    received = handler.messages[0][2]
    assert received.get_content_type() == "text/plain"
    assert received["Reply-To"] == "pagos@acme.example"
    assert "List-Unsubscribe" not in received


def test_a_burst_reuses_one_connection(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    provider = SmtpProvider()
    for n in range(5):
        provider.send(message(message_id=f"m{n}"), credentials(port))
    provider.close()
    assert len(handler.messages) == 5
    assert handler.connections == 1


def test_refusals_are_permanent_or_transient_by_reply_code(mailbox: tuple[Mailbox, int]) -> None:
    _, port = mailbox
    provider = SmtpProvider()
    with pytest.raises(ChannelError) as refused:
        provider.send(message("nobody@deudor.example"), credentials(port))
    assert refused.value.transient is False and "550" in refused.value.reason
    with pytest.raises(ChannelError) as busy:
        provider.send(message("busy@deudor.example"), credentials(port))
    assert busy.value.transient is True and "451" in busy.value.reason
    # The connection is still good after a refusal.
    provider.send(message(), credentials(port))
    provider.close()


def test_unreachable_server_is_transient_and_missing_starttls_permanent(
    mailbox: tuple[Mailbox, int],
) -> None:
    _, port = mailbox
    provider = SmtpProvider()
    with pytest.raises(ChannelError) as down:
        provider.send(message(), credentials(free_port()))
    assert down.value.transient is True
    with pytest.raises(ChannelError) as plain:
        provider.send(message(), credentials(port, security="starttls"))
    assert plain.value.transient is False and "STARTTLS" in plain.value.reason


def test_a_header_with_a_line_break_is_refused_not_injected(mailbox: tuple[Mailbox, int]) -> None:
    handler, port = mailbox
    provider = SmtpProvider()
    with pytest.raises(ChannelError) as bad:
        provider.send(
            message(headers={"X-Note": "a\r\nBcc: victim@example.com"}), credentials(port)
        )
    assert bad.value.transient is False
    assert handler.messages == []


def test_the_schema_keeps_secrets_out_of_public_fields() -> None:
    public = {
        name
        for name, field in SmtpCredentialsSchema().fields.items()
        if field.metadata.get("public")
    }
    assert "password" not in public and "username" not in public
    assert {"host", "port", "security", "from_address"} <= public
