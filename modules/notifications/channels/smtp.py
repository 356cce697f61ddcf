"""E-mail over SMTP (``smtplib``): STARTTLS, implicit TLS or plain; multipart text and HTML.

The MIME message is UTF-8, quoted-printable (7-bit safe on any server, readable in a
dump), with the outbound message's extra headers — ``List-Unsubscribe`` and
``List-Unsubscribe-Post`` (RFC 8058) among them. The common case is written directly
(:mod:`.mime`, a small fraction of the ``email`` package's cost); the rest (international
addresses, headers past 998 characters) through :func:`build_email`. A connection is kept
per thread and per account and reused for the next message (one TLS handshake and login
per burst, not per message); a reused connection the server has dropped is reopened once.
"""

from __future__ import annotations

import email.policy
import hashlib
import smtplib
import ssl
import threading
import time
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from marshmallow import Schema, fields, validate

from almacen.gateway.db import utcnow

from .interfaces import ChannelError, OutboundMessage
from .mime import RESERVED_HEADERS, compose_email

__all__ = ["SmtpCredentialsSchema", "SmtpProvider", "build_email"]

#: Headers folded only past RFC 5322's 998 characters, so that a URL in
#: ``List-Unsubscribe`` arrives on the header's own line, exactly as written.
_POLICY = email.policy.default.clone(max_line_length=998)
#: A pooled connection idle longer than this is closed rather than reused.
IDLE_SECONDS = 30.0


def _public(**kwargs: Any) -> dict[str, Any]:
    return {**kwargs, "metadata": {"public": True}}


class SmtpCredentialsSchema(Schema):
    """An SMTP account: server, security, login and sender."""

    host = fields.String(required=True, validate=validate.Length(min=1, max=255), **_public())
    port = fields.Integer(load_default=587, validate=validate.Range(min=1, max=65535), **_public())
    #: ``starttls`` (upgrade on port 587), ``ssl`` (implicit TLS, port 465) or ``none``.
    security = fields.String(
        load_default="starttls",
        validate=validate.OneOf(["starttls", "ssl", "none"]),
        **_public(),
    )
    username = fields.String(load_default=None, validate=validate.Length(max=255))
    password = fields.String(load_default=None, validate=validate.Length(max=1024))
    from_address = fields.Email(required=True, **_public())
    from_name = fields.String(load_default=None, validate=validate.Length(max=200), **_public())
    reply_to = fields.Email(load_default=None, **_public())
    timeout_seconds = fields.Float(
        load_default=10.0, validate=validate.Range(min=0.1, max=120), **_public()
    )
    #: Check the server's certificate (turn off only for a test server).
    verify_certificate = fields.Boolean(load_default=True, **_public())


def build_email(message: OutboundMessage, credentials: Mapping[str, Any]) -> EmailMessage:
    """The MIME message: From, To, Subject, Date, Message-ID, extra headers, text (+ HTML).

    :raises ChannelError: (permanent) for a header that would break the message (a line
        break in a value).
    """
    sender = credentials["from_address"]
    domain = sender.rpartition("@")[2]
    email = EmailMessage(policy=_POLICY)
    try:
        email["From"] = Address(display_name=credentials.get("from_name") or "", addr_spec=sender)
        email["To"] = message.to
        email["Subject"] = message.subject or ""
        email["Date"] = format_datetime(utcnow())
        email["Message-ID"] = f"<{message.message_id}@{domain}>"
        if credentials.get("reply_to"):
            email["Reply-To"] = credentials["reply_to"]
        for name, value in message.headers.items():
            if name.lower() not in RESERVED_HEADERS:
                email[name] = value
    except (ValueError, TypeError) as exc:
        raise ChannelError(
            f"the message cannot be written as e-mail: {exc}", transient=False
        ) from None
    email.set_content(message.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if message.html is not None:
        email.add_alternative(message.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return email


def _code_error(what: str, code: int, text: bytes | str) -> ChannelError:
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return ChannelError(f"{what}: SMTP {code} {reply[:200]}", transient=400 <= code < 500)


class _Pool(threading.local):
    """This thread's open connections, by account."""

    def __init__(self) -> None:
        self.connections: dict[tuple[Any, ...], tuple[smtplib.SMTP, float]] = {}


class SmtpProvider:
    """The built-in e-mail provider."""

    name = "smtp"
    channel = "email"
    credentials_schema: type[Schema] = SmtpCredentialsSchema

    def __init__(self) -> None:
        self._pool = _Pool()

    @staticmethod
    def _key(credentials: Mapping[str, Any]) -> tuple[Any, ...]:
        # The password enters the key only as a digest: a changed password opens a new login.
        secret = hashlib.sha256(str(credentials.get("password")).encode()).hexdigest()
        return (
            credentials["host"],
            credentials["port"],
            credentials["security"],
            credentials.get("username"),
            secret,
            credentials.get("verify_certificate", True),
        )

    @staticmethod
    def _connect(credentials: Mapping[str, Any]) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if not credentials.get("verify_certificate", True):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        host, port = credentials["host"], credentials["port"]
        timeout = credentials.get("timeout_seconds", 10.0)
        connection: smtplib.SMTP
        if credentials["security"] == "ssl":
            connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            connection = smtplib.SMTP(host, port, timeout=timeout)
        try:
            if credentials["security"] == "starttls":
                connection.starttls(context=context)
            if credentials.get("username"):
                connection.login(credentials["username"], credentials.get("password") or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def _connection(self, credentials: Mapping[str, Any]) -> tuple[smtplib.SMTP, bool]:
        key = self._key(credentials)
        pooled = self._pool.connections.pop(key, None)
        if pooled is not None:
            connection, last_used = pooled
            if time.monotonic() - last_used < IDLE_SECONDS:
                return connection, True
            self._quietly_close(connection)
        return self._connect(credentials), False

    @staticmethod
    def _quietly_close(connection: smtplib.SMTP) -> None:
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def close(self) -> None:
        """Close this thread's pooled connections."""
        for connection, _ in self._pool.connections.values():
            self._quietly_close(connection)
        self._pool.connections.clear()

    def send(self, message: OutboundMessage, credentials: Mapping[str, Any]) -> str:
        """Send ``message`` to ``message.to``; the provider id is its Message-ID."""
        composed = compose_email(message, credentials)
        email: EmailMessage | None = None
        if composed is None:  # international addresses (SMTPUTF8) and the like
            email = build_email(message, credentials)
            content, message_id = b"", str(email["Message-ID"])
        else:
            content, message_id = composed
        for _attempt in range(2):
            try:
                connection, reused = self._connection(credentials)
            except smtplib.SMTPAuthenticationError:
                raise ChannelError("the SMTP server refused the login", transient=False) from None
            except smtplib.SMTPNotSupportedError:
                raise ChannelError(
                    "the SMTP server does not offer STARTTLS", transient=False
                ) from None
            except ssl.SSLCertVerificationError:
                raise ChannelError(
                    "the SMTP server's certificate is not trusted", transient=False
                ) from None
            except smtplib.SMTPResponseException as exc:
                raise _code_error("connecting", exc.smtp_code, exc.smtp_error) from None
            except (smtplib.SMTPException, OSError) as exc:
                raise ChannelError(
                    f"cannot reach the SMTP server: {type(exc).__name__}", transient=True
                ) from None
            try:
                if email is not None:
                    connection.send_message(email, credentials["from_address"], [message.to])
                else:
                    connection.sendmail(credentials["from_address"], [message.to], content)
            except smtplib.SMTPServerDisconnected:
                connection.close()
                if reused:
                    continue  # the server dropped an idle connection: open a fresh one once
                raise ChannelError("the SMTP server hung up", transient=True) from None
            except smtplib.SMTPRecipientsRefused as exc:
                self._keep(credentials, connection)
                code, text = next(iter(exc.recipients.values()))
                raise _code_error("recipient refused", code, text) from None
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                self._keep(credentials, connection)
                raise _code_error("refused", exc.smtp_code, exc.smtp_error) from None
            except (smtplib.SMTPException, OSError) as exc:
                connection.close()
                raise ChannelError(
                    f"sending failed: {type(exc).__name__}", transient=True
                ) from None
            self._keep(credentials, connection)
            return message_id
        raise ChannelError("the SMTP server hung up", transient=True)

    def _keep(self, credentials: Mapping[str, Any], connection: smtplib.SMTP) -> None:
        key = self._key(credentials)
        previous = self._pool.connections.pop(key, None)
        if previous is not None and previous[0] is not connection:
            self._quietly_close(previous[0])
        self._pool.connections[key] = (connection, time.monotonic())
