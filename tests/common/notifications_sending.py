"""Helpers for the notifications sending tests: a recording channel plugin, channel and
template set-up through the API, signed callbacks, and running the send loop."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from marshmallow import Schema, fields

from almacen import hookimpl
from almacen.gateway.app import gateway_of
from almacen.modules.notifications.channels import ChannelError, OutboundMessage
from almacen.modules.notifications.sending import MessageSender, sign
from tests.common.actors import Admin, TenantHandle

BASE = "/v1/notifications"
MEMO = "memo"
REMINDER = "Hello {{ name }}, {{ amount }} is due."


class MemoCredentials(Schema):
    """The recording channel needs no secret; ``label`` is shown back."""

    label = fields.String(load_default="memo", metadata={"public": True})


class MemoProvider:
    """A channel that records what it is given, and raises what it is told to next."""

    name = MEMO
    channel = MEMO
    credentials_schema = MemoCredentials

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[OutboundMessage] = []
        self.raises: list[BaseException] = []

    def send(self, message: OutboundMessage, credentials: Mapping[str, Any]) -> str:
        with self.lock:
            if self.raises:
                raise self.raises.pop(0)
            self.sent.append(message)
            return f"memo-{len(self.sent)}"

    def sent_to(self, address: str) -> list[OutboundMessage]:
        """What went to one address (tests share the provider; addresses are unique)."""
        with self.lock:
            return [m for m in self.sent if m.to == address]

    def fail_next(self, *errors: BaseException) -> None:
        """Raise these, in order, on the next sends."""
        with self.lock:
            self.raises.extend(errors)


class MemoPlugin:
    """The plugin object adding the recording channel."""

    def __init__(self) -> None:
        self.provider = MemoProvider()

    @hookimpl
    def almacen_notifications_channels(self) -> list[MemoProvider]:
        return [self.provider]


def transient(reason: str = "try later") -> ChannelError:
    """A fault a retry may overcome."""
    return ChannelError(reason, transient=True)


def permanent(reason: str = "no such address") -> ChannelError:
    """A fault no retry overcomes."""
    return ChannelError(reason, transient=False)


def midday_zone(now: dt.datetime | None = None) -> str:
    """A fixed-offset IANA zone where it is now about 13:00 (no daylight saving), so that
    the contact policy's allowed hours hold whenever the test runs."""
    return zone_at(13, now)


def recipient(address: str, **more: Any) -> dict[str, Any]:
    """An explicit recipient reachable at midday under US rules (8:00 to 21:00 local)."""
    return {"address": address, "time_zone": midday_zone(), "country": "US", **more}


def body_to(address: str, **more: Any) -> dict[str, Any]:
    """A reminder to ``address`` on the recording channel, in US English (``REMINDER``)."""
    return {
        "recipient": recipient(address),
        "channel": MEMO,
        "template": "reminder",
        "locale": "en_US",
        "data": {"name": "Ana", "amount": "$10.00"},
        **more,
    }


def configure_channel(
    tenant: TenantHandle, channel: str, provider: str, credentials: Mapping[str, Any]
) -> str:
    """Give the tenant a provider for ``channel``; the receipt secret it was issued."""
    response = tenant.put(
        f"{BASE}/channels/{channel}", json={"provider": provider, "credentials": credentials}
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json().get("receipt_secret") or "")


def put_template(
    tenant: TenantHandle,
    name: str,
    channel: str,
    locale: str,
    text: str,
    *,
    subject: str | None = None,
    html: str | None = None,
) -> dict[str, Any]:
    """Store a template version, asserting success."""
    body: dict[str, Any] = {"text": text}
    if subject is not None:
        body["subject"] = subject
    if html is not None:
        body["html"] = html
    response = tenant.put(f"{BASE}/templates/{name}/{channel}/{locale}", json=body)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def send(
    tenant: TenantHandle, body: Mapping[str, Any], *, key: str | None = None, status: int = 201
) -> dict[str, Any]:
    """POST /messages, asserting the status."""
    headers = {"Idempotency-Key": key} if key else {}
    response = tenant.post(f"{BASE}/messages", json=dict(body), headers=headers)
    assert response.status_code == status, response.text
    return dict(response.json())


def message(tenant: TenantHandle, message_id: str) -> dict[str, Any]:
    """GET /messages/{id}, asserting success."""
    response = tenant.get(f"{BASE}/messages/{message_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def sender_of(app: Any) -> MessageSender:
    """The send loop the app's workers run (registered through ``almacen_worker_tasks``)."""
    tasks = gateway_of(app).dispatcher.worker_tasks()
    found = [task for task in tasks if isinstance(task, MessageSender)]
    assert len(found) == 1, tasks
    return found[0]


def signed_post(
    client: Any, path: str, body: Mapping[str, Any], secret: str, *, at: float | None = None
) -> Any:
    """POST a provider callback signed with ``secret``."""
    raw = json.dumps(body).encode()
    stamp = int(at if at is not None else time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Almacen-Timestamp": str(stamp),
        "X-Almacen-Signature": sign(secret, stamp, raw),
    }
    return client.post(path, content=raw, headers=headers)


def events_of(tenant: TenantHandle, kind: str) -> list[dict[str, Any]]:
    """The tenant's events of one type, from the event log."""
    response = tenant.get("/v1/events", params={"type": kind})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def zone_at(hour: int, now: dt.datetime | None = None) -> str:
    """A fixed-offset IANA zone where the local hour is now ``hour`` (POSIX sign: Etc/GMT-5
    is five hours ahead of UTC)."""
    now = now or dt.datetime.now(dt.UTC)
    offset = hour - now.hour
    if offset > 14:
        offset -= 24
    if offset < -12:
        offset += 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


@dataclasses.dataclass
class Env:
    """An app with the recording channel, an operator on it, and its provider."""

    app: Any
    admin: Admin
    provider: MemoProvider
    #: The receipt secret each tenant was issued for the memo provider.
    secrets: dict[str, str] = dataclasses.field(default_factory=dict)

    def tenant(self, **config: Any) -> TenantHandle:
        """A tenant subscribed to notifications (with ``config``), sending through memo."""
        handle = self.admin.new_tenant()
        response = self.admin.subscribe(handle.id, "notifications", config)
        assert response.status_code == 200, response.text
        self.secrets[handle.id] = configure_channel(handle, MEMO, MEMO, {})
        put_template(handle, "reminder", MEMO, "en_US", REMINDER)
        return handle

    def drain(self, *, at: dt.datetime | None = None) -> int:
        """Run the send loop until nothing is due (at ``at``, default now)."""
        sender = sender_of(self.app)
        total = 0
        while done := sender.send_due(now=at):
            total += done
        return total


def memo_env(memo_app: tuple[Any, MemoPlugin], admin: Admin) -> Iterator[Env]:
    """The body of an ``env`` fixture: the memo app, its provider reset around the test."""
    app, plugin = memo_app
    plugin.provider.raises.clear()
    yield Env(app, Admin(app.test_client(), admin.headers["X-API-Key"]), plugin.provider)
    plugin.provider.raises.clear()
