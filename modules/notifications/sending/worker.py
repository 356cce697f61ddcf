"""The send loop: a worker task that claims due messages and hands them to their channel.

One cycle claims up to ``delivery_batch_size`` queued messages whose time has come (on
PostgreSQL ``FOR UPDATE SKIP LOCKED``, so several workers share the queue; SQLite's
``BEGIN IMMEDIATE`` serialises them) and keeps them locked while it sends, in one
transaction. For each it asks the contact policy again (the hour, caps, consent and
opt-outs may have changed since acceptance) in the very transaction that marks it sent,
right before the provider call; then the throttle, then the provider. The facts those
checks need (settings, policy, consents and opt-outs, recent attempts, the unsubscribe
secret) are read once per tenant's group in a few queries (:class:`ContactBatch`), after
the messages are locked: an opt-out committed before the batch's checks blocks its
message. The batch's writes (statuses, history, events, attempts) are flushed together
per tenant, and a recipient has at most one message per batch, so its next message's
check sees this one's attempt. A message is sent at least once: a worker that dies after
the provider took a message but before its commit leaves it queued, to be sent again.

Outcomes: ``sent`` (with the provider's id; receipts move it on); blocked → waiting until
the next allowed time or ``blocked`` (dropped); a transient :class:`ChannelError` or any
error a plugin provider raises → retried with exponential backoff, ``failed`` after
``max_attempts``; a permanent one → ``failed``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from almacen.gateway.db import Database, utcnow
from almacen.gateway.errors import AlmacenError
from almacen.gateway.events.dispatcher import backoff
from almacen.gateway.settings import Settings

from ..channels import ChannelError, ChannelProvider, OutboundMessage, provider_for
from ..contact import (
    ContactBatch,
    ContactProblem,
    Recipient,
    check_contact,
    record_attempt,
    unsubscribe_url,
)
from ..message_tables import Message
from ..settings import settings_for
from .lifecycle import hold, transition
from .throttle import Throttle

__all__ = ["MessageSender", "outbound_headers"]

logger = logging.getLogger("almacen.notifications")

ALL_TENANTS = {"all_tenants": True}
#: Header values RFC 8058 asks for beside a one-click ``List-Unsubscribe`` URI.
ONE_CLICK = "List-Unsubscribe=One-Click"


def outbound_headers(
    session: Session,
    message: Message,
    tenant_id: str,
    config: Mapping[str, Any],
    *,
    secret: str | None = None,
) -> dict[str, str]:
    """Headers the channel adds: for e-mail, RFC 8058 one-click unsubscribe.

    :param secret: the tenant's unsubscribe secret when the caller has read it.
    """
    headers = {"X-Almacen-Message-Id": message.id}
    if message.channel == "email":
        url = unsubscribe_url(
            tenant_id,
            debtor_id=message.debtor_id,
            address=message.address,
            channel="email",
            base_url=str(config["public_base_url"]),
            session=session,
            secret=secret,
        )
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = ONE_CLICK
    return headers


_RECIPIENT_FIELDS = frozenset(f.name for f in dataclasses.fields(Recipient))


def _recipient(message: Message) -> Recipient:
    return Recipient(**{k: v for k, v in message.recipient.items() if k in _RECIPIENT_FIELDS})


class MessageSender:
    """The worker task that sends due messages of every tenant (``almacen_worker_tasks``)."""

    def __init__(self, db: Database, settings: Settings, *, batch_size: int | None = None) -> None:
        self.db = db
        self.settings = settings
        self.batch_size = batch_size or settings.delivery_batch_size
        self.throttle = Throttle(settings.rate_limit_storage, strategy=settings.rate_limit_strategy)

    def __call__(self) -> int:
        """One worker cycle: send one batch; return how many messages it held."""
        return self.send_due()

    def drain(self, *, max_batches: int = 1000) -> int:
        """Send batches until none is due (tests and one-off runs); the messages handled."""
        total = 0
        for _ in range(max_batches):
            done = self.send_due()
            total += done
            if not done:
                break
        return total

    def send_due(self, *, now: dt.datetime | None = None) -> int:
        """Claim the due queued messages and send them, tenant by tenant, in one transaction;
        return how many were claimed."""
        now = now or utcnow()
        statement = (
            select(Message)
            .where(Message.status == "queued", Message.next_attempt_at <= now)
            .order_by(Message.next_attempt_at, Message.id)
            .limit(self.batch_size)
        )
        if not self.db.is_sqlite:
            statement = statement.with_for_update(skip_locked=True)
        with self.db.transaction() as session:
            messages = list(session.scalars(statement.execution_options(**ALL_TENANTS)))
            groups: dict[str, list[Message]] = {}
            for message in messages:
                groups.setdefault(message.tenant_id, []).append(message)
            for tenant_id, group in groups.items():
                # Writes are stamped with, and checked against, the session's tenant.
                session.info["tenant_id"] = tenant_id
                self.send_group(session, tenant_id, group, now)
                session.flush()
            session.info["tenant_id"] = None
        return len(messages)

    def send_group(
        self, session: Session, tenant_id: str, group: list[Message], now: dt.datetime
    ) -> None:
        """Send one tenant's claimed messages; their writes are flushed together after.

        One message per recipient per batch: a recipient's second message waits for the
        next batch, whose contact check then sees the first one's attempt (frequency caps).
        """
        config = settings_for(session)
        channels: dict[str, tuple[ChannelProvider, Mapping[str, Any]] | AlmacenError] = {}
        seen: set[str] = set()
        chosen: list[tuple[Message, Recipient]] = []
        for message in group:
            who = message.debtor_id or message.address
            if who not in seen:
                seen.add(who)
                chosen.append((message, _recipient(message)))
        batch = ContactBatch(session, now, settings=config)
        sent: list[tuple[Message, Recipient, dt.datetime]] = []
        with session.no_autoflush:
            batch.preload(
                (recipient for _, recipient in chosen),
                (message.address for message, _ in chosen if message.address),
            )
            for message, recipient in chosen:
                try:
                    at = self.send_one(session, message, recipient, config, now, channels, batch)
                except ContactProblem as exc:  # a stored recipient the policy cannot read
                    message.last_error = exc.detail
                    transition(
                        session, message, "failed", note=exc.detail, reasons=["bad_recipient"]
                    )
                    continue
                except SQLAlchemyError:
                    raise  # the transaction is lost: the whole batch is tried again
                except Exception as exc:  # a bug on this message's path: never a poison pill
                    logger.exception(
                        "message %s could not be processed",
                        message.id,
                        extra={"tenant_id": tenant_id},
                    )
                    message.attempts += 1
                    error = f"{type(exc).__name__}: {exc}"
                    self._failed_attempt(session, message, config, error, transient=True)
                    continue
                if at is not None:
                    sent.append((message, recipient, at))
        for message, recipient, at in sent:
            self._count_attempt(session, message, recipient, at)

    def send_one(
        self,
        session: Session,
        message: Message,
        recipient: Recipient,
        config: Mapping[str, Any],
        now: dt.datetime,
        channels: dict[str, tuple[ChannelProvider, Mapping[str, Any]] | AlmacenError],
        batch: ContactBatch | None = None,
    ) -> dt.datetime | None:
        """Check the policy and opt-outs again, throttle, send and mark one message; when it
        was sent, the time it was.

        :param batch: the contact facts of the message's group (read for this one without).
        """
        tenant_id = message.tenant_id
        if batch is None:
            batch = ContactBatch(session, now, settings=config)
        # In the transaction that marks it sent: an opt-out committed before the batch's
        # checks is seen.
        decision = check_contact(
            session, tenant_id, recipient, message.channel, now, message.account_ids, batch=batch
        )
        if not decision.allowed:
            hold(session, message, [r.code for r in decision.reasons], decision.next_allowed_at)
            return None
        # The address the message goes to (a plugin channel's too), from the same read.
        if batch.opted_out(
            debtor_id=message.debtor_id, address=message.address, channel=message.channel
        ):
            message.on_blocked = "drop"
            hold(session, message, ["opted_out"], None)
            return None
        wait = self.throttle.acquire(tenant_id, message.channel, config)
        if wait is not None:
            message.next_attempt_at = now + wait
            return None
        found = channels.get(message.channel)
        if found is None:
            try:
                found = provider_for(session, tenant_id, message.channel)
            except AlmacenError as exc:
                found = exc
            channels[message.channel] = found
        if isinstance(found, AlmacenError):
            message.last_error = found.detail
            transition(
                session, message, "failed", note=found.detail, reasons=["channel_not_configured"]
            )
            return None
        provider, credentials = found
        outbound = OutboundMessage(
            message_id=message.id,
            channel=message.channel,
            to=message.address,
            subject=message.subject,
            text=message.text,
            html=message.html,
            headers=outbound_headers(
                session,
                message,
                tenant_id,
                config,
                secret=batch.secret if message.channel == "email" else None,
            ),
        )
        message.attempts += 1
        message.provider = provider.name
        try:
            provider_id = provider.send(outbound, credentials)
        except ChannelError as exc:
            self._failed_attempt(session, message, config, exc.reason, transient=exc.transient)
            return None
        except Exception as exc:  # a plugin's bug: retried like a transient fault
            logger.warning("provider %s raised %r", provider.name, exc)
            self._failed_attempt(
                session, message, config, f"{type(exc).__name__}: {exc}", transient=True
            )
            return None
        sent_at = utcnow()
        message.provider_message_id = str(provider_id) if provider_id else None
        message.sent_at = sent_at
        message.last_error = None
        transition(session, message, "sent", note=f"via {provider.name}", reasons=[])
        return sent_at

    @staticmethod
    def _count_attempt(
        session: Session, message: Message, recipient: Recipient, at: dt.datetime
    ) -> None:
        """Feed the frequency caps. The message is out: a refusal here is logged, never
        allowed to undo the ``sent`` mark (that would send it again)."""
        if recipient.debtor_id is None and recipient.address(message.channel) is None:
            return  # a plugin channel's address the caps cannot key on
        try:
            record_attempt(
                session,
                message.tenant_id,
                recipient,
                message.channel,
                message.account_ids,
                at,
            )
        except ContactProblem:
            logger.exception("attempt of message %s not counted", message.id)

    def _failed_attempt(
        self,
        session: Session,
        message: Message,
        config: Mapping[str, Any],
        error: str,
        *,
        transient: bool,
    ) -> None:
        message.last_error = error[:1000]
        if transient and message.attempts < int(config["max_attempts"]):
            delay = backoff(message.attempts, float(config["retry_backoff_seconds"]))
            message.next_attempt_at = utcnow() + delay
            transition(
                session,
                message,
                "queued",
                note=f"attempt {message.attempts} failed, retry at "
                f"{message.next_attempt_at.isoformat()}: {message.last_error}",
                reasons=["provider_error"],
            )
            return
        transition(
            session,
            message,
            "failed",
            note=message.last_error,
            reasons=["provider_error" if transient else "provider_refused"],
        )
