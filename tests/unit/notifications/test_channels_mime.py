"""The directly written e-mail: read back by the standard library's parser (the oracle),
it says what the ``email`` package would, within RFC 5322 / 2045 / 2047's line rules."""

from __future__ import annotations

import email
import email.policy
import quopri
from email.message import EmailMessage
from typing import Any

import pytest

from almacen.modules.notifications.channels import ChannelError, OutboundMessage
from almacen.modules.notifications.channels.mime import compose_email

CREDENTIALS = {
    "from_address": "cobranzas@acme.example",
    "from_name": "Cobranzas Acme Ñandú",
    "reply_to": "pagos@acme.example",
}
UNSUBSCRIBE = "<https://almacen.example/v1/notifications/unsubscribe/t1/" + "a" * 200 + ">"


def outbound(**fields: Any) -> OutboundMessage:
    base: dict[str, Any] = {
        "message_id": "m0001",
        "channel": "email",
        "to": "ana@deudor.example",
        "subject": "Recordatorio: su cuota vence mañana",
        "text": "Hola Ana,\nsu cuota de $150.000,00 vence mañana.\n",
        "html": "<p>Hola Ana, <b>$150.000,00</b> vence mañana.</p>\n",
        "headers": {
            "List-Unsubscribe": UNSUBSCRIBE,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }
    return OutboundMessage(**{**base, **fields})


def parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    for part in parsed.walk():
        assert not part.defects, part.defects
    return parsed


def composed(message: OutboundMessage, credentials: dict[str, Any] = CREDENTIALS) -> bytes:
    result = compose_email(message, credentials)
    assert result is not None
    raw, message_id = result
    assert message_id == f"<{message.message_id}@acme.example>"
    return raw


def test_multipart_message_reads_back_with_every_header_and_body() -> None:
    raw = composed(outbound())
    parsed = parse(raw)
    assert parsed["From"] == "Cobranzas Acme Ñandú <cobranzas@acme.example>"
    assert parsed["To"] == "ana@deudor.example"
    assert parsed["Reply-To"] == "pagos@acme.example"
    assert parsed["Subject"] == "Recordatorio: su cuota vence mañana"
    assert parsed["Message-ID"] == "<m0001@acme.example>"
    assert parsed["Date"].datetime is not None
    assert parsed["MIME-Version"] == "1.0"
    # RFC 8058: the URI on the header's own line, exactly as given.
    assert parsed["List-Unsubscribe"] == UNSUBSCRIBE
    assert f"List-Unsubscribe: {UNSUBSCRIBE}\r\n".encode() in raw
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content() == "Hola Ana,\r\nsu cuota de $150.000,00 vence mañana.\r\n"
    assert html.get_content() == "<p>Hola Ana, <b>$150.000,00</b> vence mañana.</p>\r\n"
    for part in (plain, html):
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"


def test_the_bytes_are_seven_bit_crlf_with_short_lines() -> None:
    text = "Línea larga " + "ñ" * 300 + "\n= y espacio final \n.punto\n"
    raw = composed(outbound(text=text, subject="Aviso " + "á" * 100))
    assert all(byte < 128 for byte in raw)
    assert b"\n" not in raw.replace(b"\r\n", b"")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))  # RFC 2045 section 6.7
    assert b"=?utf-8?" in head.lower()  # the subject as RFC 2047 encoded words
    parsed = parse(raw)
    assert parsed["Subject"] == "Aviso " + "á" * 100
    plain = parsed.get_body(preferencelist=("plain",))
    assert plain is not None
    assert plain.get_content().replace("\r\n", "\n") == text
    encoded = plain.get_payload(decode=False)
    assert quopri.decodestring(encoded.encode()).decode().replace("\r\n", "\n") == text


def test_text_only_is_one_part_and_ascii_names_are_quoted() -> None:
    credentials = {"from_address": "cobranzas@acme.example", "from_name": "Acme, Inc."}
    parsed = parse(composed(outbound(html=None, subject="Plain"), credentials))
    assert parsed.get_content_type() == "text/plain"
    assert parsed.is_multipart() is False
    assert parsed["From"].addresses[0].display_name == "Acme, Inc."
    assert parsed["Subject"] == "Plain"
    assert "Reply-To" not in parsed
    assert parsed.get_content() == "Hola Ana,\r\nsu cuota de $150.000,00 vence mañana.\r\n"


def test_reserved_headers_of_the_outbound_message_are_ignored() -> None:
    headers = {"Bcc": "spy@example.com", "Subject": "other", "X-Almacen-Message-Id": "m0001"}
    parsed = parse(composed(outbound(headers=headers)))
    assert "Bcc" not in parsed
    assert parsed["Subject"] == "Recordatorio: su cuota vence mañana"
    assert parsed["X-Almacen-Message-Id"] == "m0001"


def test_a_line_break_in_a_header_is_refused() -> None:
    with pytest.raises(ChannelError) as bad:
        compose_email(outbound(headers={"X-Note": "a\r\nBcc: victim@example.com"}), CREDENTIALS)
    assert bad.value.transient is False
    with pytest.raises(ChannelError):
        compose_email(outbound(subject="hi\nBcc: victim@example.com"), CREDENTIALS)


@pytest.mark.parametrize(
    "change",
    [
        {"to": "josé@deudor.example"},  # an international address needs SMTPUTF8
        {"headers": {"X-Note": "ñ"}},  # a non-ASCII extra header
        {"headers": {"X-Long": "x" * 1000}},  # past RFC 5322's 998 characters
    ],
)
def test_what_needs_the_email_package_is_declined(change: dict[str, Any]) -> None:
    assert compose_email(outbound(**change), CREDENTIALS) is None


def test_text_that_looks_like_an_encoded_word_reads_back_as_written() -> None:
    subject = "Pay =?utf-8?q?now?= please"
    credentials = {**CREDENTIALS, "from_name": "=?utf-8?q?Bank?="}
    parsed = parse(composed(outbound(subject=subject), credentials))
    assert parsed["Subject"] == subject
    assert parsed["From"].addresses[0].display_name == "=?utf-8?q?Bank?="
