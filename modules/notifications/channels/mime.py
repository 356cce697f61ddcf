"""The bytes of a plain e-mail, written directly: the send loop's common case, cheaply.

What :func:`compose_email` writes is what :func:`~.smtp.build_email` would give, as 7-bit
ASCII with CRLF line ends (RFC 5322): ``MIME-Version: 1.0``, UTF-8 text (and HTML as a
``multipart/alternative``) in quoted-printable (RFC 2045, lines of at most 76
characters), a non-ASCII subject or sender name as RFC 2047 encoded words, and the
outbound message's extra headers (RFC 8058's ``List-Unsubscribe`` among them) on a line
of their own. It declines (None) what needs the ``email`` package's full treatment: a
non-ASCII address or extra header, or a line past RFC 5322's 998 characters.
"""

from __future__ import annotations

import binascii
import re
import secrets
from collections.abc import Mapping
from email.header import Header
from email.utils import format_datetime, formataddr
from typing import Any

from almacen.gateway.db import utcnow

from .interfaces import ChannelError, OutboundMessage

__all__ = ["RESERVED_HEADERS", "compose_email"]

#: Headers the provider writes itself; an outbound message's own are ignored for these.
RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)
#: RFC 5322's limit on a line, CRLF excluded.
MAX_LINE = 998
#: A plain ``local@domain`` address in ASCII, nothing to quote or encode.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
#: A header field name (RFC 5322 ftext).
_FIELD_NAME = re.compile(r"[!-9;-~]+")
#: Printable ASCII (and tabs), what an unencoded header value may hold.
_PRINTABLE = re.compile(r"[\t -~]*")


def _refuse_breaks(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is not None and ("\r" in value or "\n" in value):
            raise ChannelError(
                f"the message cannot be written as e-mail: header {name!r} contains a line break",
                transient=False,
            )


def _text(value: str, name: str) -> str:
    """A header value: as is when printable ASCII, else RFC 2047 encoded words (also when
    it holds ``=?``, which a reader would take for the start of one)."""
    if _PRINTABLE.fullmatch(value) and "=?" not in value:
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _sender(name: str, address: str) -> str:
    """``From``: the address, after the display name (quoted, or encoded words)."""
    if not name:
        return address
    if _PRINTABLE.fullmatch(name) and "=?" not in name:
        return formataddr((name, address))
    encoded = Header(name, "utf-8", header_name="From").encode(linesep="\r\n")
    return f"{encoded} <{address}>"


def _body(text: str, subtype: str) -> bytes:
    """One UTF-8, quoted-printable part: its headers, a blank line and its lines."""
    lines = text.encode("utf-8").splitlines()
    encoded = binascii.b2a_qp(b"\r\n".join(lines) + b"\r\n", istext=True)
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    return head.encode("ascii") + encoded


def compose_email(
    message: OutboundMessage, credentials: Mapping[str, Any]
) -> tuple[bytes, str] | None:
    """The message's bytes and its Message-ID, or None when it needs the ``email`` package.

    :raises ChannelError: (permanent) for a header value with a line break.
    """
    sender = str(credentials["from_address"])
    extra = {k: v for k, v in message.headers.items() if k.lower() not in RESERVED_HEADERS}
    name = credentials.get("from_name") or ""
    reply_to = credentials.get("reply_to")
    _refuse_breaks(
        {
            "From": f"{name}{sender}",
            "To": message.to,
            "Subject": message.subject,
            "Reply-To": reply_to,
            **extra,
        }
    )
    addresses = [sender, message.to] + ([reply_to] if reply_to else [])
    if not all(_PLAIN_ADDRESS.fullmatch(a) for a in addresses):
        return None
    domain = sender.rpartition("@")[2]
    message_id = f"<{message.message_id}@{domain}>"
    headers = [
        ("From", _sender(name, sender)),
        ("To", message.to),
        ("Subject", _text(message.subject or "", "Subject")),
        ("Date", format_datetime(utcnow())),
        ("Message-ID", message_id),
    ]
    if reply_to:
        headers.append(("Reply-To", reply_to))
    for field, value in extra.items():
        if not _FIELD_NAME.fullmatch(field) or not _PRINTABLE.fullmatch(value):
            return None
        headers.append((field, value))
    headers.append(("MIME-Version", "1.0"))
    lines = [f"{field}: {value}" for field, value in headers]
    if any(len(line) > MAX_LINE for line in lines):
        return None
    head = ("\r\n".join(lines) + "\r\n").encode("ascii")
    if message.html is None:
        return head + _body(message.text, "plain"), message_id
    # "=_" never occurs in quoted-printable text ("=" is written "=3D"): a safe boundary.
    # The CRLF before a delimiter belongs to it (RFC 2046), not to the part before.
    boundary = f"=_{secrets.token_hex(16)}"
    return (
        head
        + f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode("ascii")
        + f"--{boundary}\r\n".encode("ascii")
        + _body(message.text, "plain")
        + f"\r\n--{boundary}\r\n".encode("ascii")
        + _body(message.html, "html")
        + f"\r\n--{boundary}--\r\n".encode("ascii")
    ), message_id
