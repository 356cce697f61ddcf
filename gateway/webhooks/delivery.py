"""Sending deliveries: claim due rows under a lease, POST them signed, log each attempt.

One cycle claims up to a batch of due deliveries in a short transaction, pushing each
``next_attempt_at`` past a lease (the HTTP timeout plus a margin) and commits, so no row lock
is held while a request is in flight. Each send is then recorded in a transaction of its own:
an attempt row, and the delivery marked delivered, rescheduled, or failed. A sender that dies
mid-request leaves its rows due again when the lease ends: at least once, never lost (the
``webhook-id`` header lets receivers drop a duplicate).

On PostgreSQL the claim is ``FOR UPDATE SKIP LOCKED``, so several workers share the backlog;
SQLite's ``BEGIN IMMEDIATE`` already serialises claimers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import select, update

from ..db import Database, utcnow
from ..events.models import Event
from ..events.schemas import CauseSchema
from ..settings import Settings
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .signing import signed_headers
from .targets import TargetRefusedError, check_target, parse_networks

__all__ = ["RETRY_SCHEDULE", "Outcome", "Outgoing", "Sender", "message_body", "retry_delay"]

logger = logging.getLogger("almacen.webhooks")

ALL_TENANTS = {"all_tenants": True}
#: Seconds before each attempt, as Standard Webhooks (Svix) publish it: immediately, 5 s,
#: 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. ``webhook_retry_scale`` multiplies it.
RETRY_SCHEDULE: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
#: How much of a response body the attempt log keeps.
EXCERPT_CHARS = 1000
#: Time beyond the HTTP timeout before a claimed delivery is due again (its sender died).
LEASE_MARGIN = dt.timedelta(seconds=30)
USER_AGENT = "Almacen-Webhooks/1"


def retry_delay(attempts: int, *, scale: float = 1.0) -> dt.timedelta:
    """Delay after the ``attempts``-th failed attempt: the schedule's next step (its last
    step once past the end), times ``scale``."""
    step = RETRY_SCHEDULE[min(attempts, len(RETRY_SCHEDULE) - 1)]
    return dt.timedelta(seconds=step * scale)


def message_body(event: Event) -> str:
    """The JSON text sent for ``event``: ``id``, ``type``, ``timestamp``, ``data`` (and the
    event's ``subject``, schema ``version`` and, when a blueprint rule caused it, ``cause``:
    service, rule and experiment arm, as in the event log)."""
    message: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "version": event.version,
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "subject": event.subject,
        "cause": CauseSchema().dump(event) if event.depth else None,
        "data": event.payload,
    }
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


@dataclasses.dataclass(frozen=True)
class Outgoing:
    """A claimed delivery, copied out of its transaction: everything needed to send it."""

    delivery_id: str
    tenant_id: str
    msg_id: str
    url: str
    secrets: tuple[str, ...]
    body: str


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one HTTP attempt gave: a status code, or an error, and how long it took."""

    status_code: int | None
    duration_ms: int
    error: str | None = None
    excerpt: str | None = None

    @property
    def ok(self) -> bool:
        """A 2xx answer; anything else (3xx included: redirects are not followed) fails."""
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    """The worker task that sends due webhook deliveries of every tenant.

    :param transport: an httpx transport (tests may pass a mock one); the default is httpx's.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.allowed = parse_networks(settings.webhook_allowed_networks)
        self.transport = transport

    def __call__(self) -> int:
        """One worker cycle: send one batch; return how many deliveries were attempted."""
        return self.send_due()

    def send_due(self, *, ids: Sequence[str] | None = None) -> int:
        """Claim due deliveries (or the due ones among ``ids``), send and record each."""
        batch = self.claim(ids=ids)
        if not batch:
            return 0
        with httpx.Client(
            transport=self.transport,
            timeout=self.settings.webhook_timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        ) as client:
            for outgoing in batch:
                outcome = self.attempt(client, outgoing)
                self.record(outgoing, outcome)
        return len(batch)

    def claim(self, *, ids: Sequence[str] | None = None) -> list[Outgoing]:
        """Lease up to a batch of due deliveries of enabled endpoints and copy them out."""
        now = utcnow()
        lease = dt.timedelta(seconds=self.settings.webhook_timeout_seconds) + LEASE_MARGIN
        statement = (
            select(WebhookDelivery, WebhookEndpoint, Event)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.enabled.is_(True),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(self.settings.delivery_batch_size)
        )
        if ids is not None:
            statement = statement.where(WebhookDelivery.id.in_(ids))
        if not self.db.is_sqlite:
            statement = statement.with_for_update(skip_locked=True, of=WebhookDelivery)
        batch: list[Outgoing] = []
        with self.db.transaction() as session:
            rows = session.execute(statement.execution_options(**ALL_TENANTS)).all()
            for delivery, endpoint, event in rows:
                batch.append(
                    Outgoing(
                        delivery_id=delivery.id,
                        tenant_id=delivery.tenant_id,
                        msg_id=event.id,
                        url=endpoint.url,
                        secrets=tuple(endpoint.signing_secrets(now)),
                        body=message_body(event),
                    )
                )
            if batch:
                session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_([o.delivery_id for o in batch]))
                    .values(next_attempt_at=now + lease)
                    .execution_options(**ALL_TENANTS)
                )
        return batch

    def attempt(self, client: httpx.Client, outgoing: Outgoing) -> Outcome:
        """POST one message, signed now, after checking its target again; never raises."""
        started = time.monotonic()

        def elapsed() -> int:
            return round((time.monotonic() - started) * 1000)

        try:
            # Checked again now: the name may resolve elsewhere than at registration.
            check_target(outgoing.url, allowed=self.allowed)
        except TargetRefusedError as exc:
            return Outcome(None, elapsed(), error=f"refused: {exc.detail}")
        headers = signed_headers(
            msg_id=outgoing.msg_id, timestamp=utcnow(), body=outgoing.body, secrets=outgoing.secrets
        )
        headers["content-type"] = "application/json"
        try:
            with client.stream(
                "POST", outgoing.url, content=outgoing.body.encode(), headers=headers
            ) as response:
                excerpt = _read_excerpt(response)
                return Outcome(response.status_code, elapsed(), excerpt=excerpt)
        except httpx.HTTPError as exc:
            return Outcome(None, elapsed(), error=f"{type(exc).__name__}: {exc}"[:1000])

    def record(self, outgoing: Outgoing, outcome: Outcome) -> None:
        """Log the attempt and mark the delivery delivered, due again, or failed."""
        now = utcnow()
        with self.db.transaction(tenant_id=outgoing.tenant_id) as session:
            delivery = session.get(WebhookDelivery, outgoing.delivery_id)
            if delivery is None:  # the endpoint was deleted while we sent
                return
            session.add(
                WebhookAttempt(
                    delivery_id=delivery.id,
                    attempted_at=now,
                    status_code=outcome.status_code,
                    duration_ms=outcome.duration_ms,
                    error=outcome.error,
                    response_excerpt=outcome.excerpt,
                )
            )
            delivery.attempts += 1
            delivery.last_attempt_at = now
            delivery.last_status_code = outcome.status_code
            delivery.last_error = outcome.error
            if outcome.ok:
                delivery.status = "delivered"
                delivery.delivered_at = now
            elif delivery.attempts >= self.settings.delivery_max_attempts:
                delivery.status = "failed"
                logger.warning(
                    "webhook delivery %s failed after %d attempts",
                    delivery.id,
                    delivery.attempts,
                    extra={"tenant_id": outgoing.tenant_id, "event_id": outgoing.msg_id},
                )
            else:
                delivery.next_attempt_at = now + retry_delay(
                    delivery.attempts, scale=self.settings.webhook_retry_scale
                )


def _read_excerpt(response: httpx.Response) -> str | None:
    # Read only the start: a receiver's body is for the log, and it may be endless.
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= EXCERPT_CHARS * 4:
            break
    text = b"".join(chunks).decode("utf-8", errors="replace")[:EXCERPT_CHARS]
    return text or None
