"""Provider callbacks: signed delivery receipts and inbound replies.

A provider signs each callback with the tenant's receipt secret for that provider
(``receipt_secret``): ``X-Almacen-Timestamp`` (Unix seconds) and ``X-Almacen-Signature:
v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">``. A timestamp more than five minutes off
is refused, so a captured callback cannot be replayed later.

Receipts move a sent message to ``delivered``, ``failed`` or ``bounced`` (a repeated receipt
changes nothing). An inbound reply whose text says "stop" in any of the ways
``is_opt_out_intent`` knows opts the sender out of that channel at once; any other reply is
announced as ``notifications.message_received`` for a bot to answer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from almacen import emit
from almacen.gateway.db import new_id, utcnow
from almacen.gateway.errors import AuthenticationError, NotFoundError, UnprocessableError

from .. import events
from ..contact import is_opt_out_intent, record_opt_out
from ..message_tables import InboundMessage, Message
from .lifecycle import transition

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE_SECONDS",
    "InboundResult",
    "apply_receipt",
    "receive_inbound",
    "sign",
    "verify",
]

SIGNATURE_HEADER = "X-Almacen-Signature"
TIMESTAMP_HEADER = "X-Almacen-Timestamp"
TOLERANCE_SECONDS = 300
#: Receipt status → statuses a message may be in to take it.
RECEIPT_FROM = {
    "delivered": ("sent",),
    "failed": ("sent",),
    "bounced": ("sent", "delivered"),
}


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Almacen-Signature`` value of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(
    secret: str,
    body: bytes,
    *,
    timestamp: str | None,
    signature: str | None,
    now: float | None = None,
) -> None:
    """Check a callback's signature (the two headers' values) and freshness.

    :raises AuthenticationError: missing, stale or wrong signature.
    """
    timestamp = (timestamp or "").strip()
    signature = (signature or "").strip()
    if not timestamp.isdigit() or not signature:
        raise AuthenticationError(
            "The callback must be signed.",
            errors=[{"header": SIGNATURE_HEADER, "detail": "signature or timestamp missing"}],
        )
    if abs((now or time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        raise AuthenticationError(
            "The callback's timestamp is too far from now.",
            errors=[{"header": TIMESTAMP_HEADER, "detail": "more than 5 minutes off"}],
        )
    expected = sign(secret, timestamp, body)
    offered = [part.strip() for part in signature.split(",")]
    if not any(hmac.compare_digest(expected, part) for part in offered):
        raise AuthenticationError(
            "The callback's signature does not match.",
            errors=[{"header": SIGNATURE_HEADER, "detail": "wrong signature"}],
        )


def _find(session: Session, provider: str, ref: str) -> Message | None:
    return session.scalar(
        select(Message)
        .where(
            or_(
                Message.id == ref,
                (Message.provider_message_id == ref) & (Message.provider == provider),
            )
        )
        .limit(1)
    )


def apply_receipt(session: Session, provider: str, receipt: Mapping[str, Any]) -> Message:
    """Record a provider's receipt on its message (idempotent).

    :raises NotFoundError: no message of the tenant has that id.
    :raises UnprocessableError: neither ``message_id`` nor ``provider_message_id`` given.
    """
    ref = receipt.get("message_id") or receipt.get("provider_message_id")
    if not ref:
        raise UnprocessableError(
            "A receipt names its message.",
            errors=[{"pointer": "/provider_message_id", "detail": "message_id or this needed"}],
        )
    message = _find(session, provider, str(ref))
    if message is None:
        raise NotFoundError("No message has that id.")
    status = str(receipt["status"])
    if message.status in RECEIPT_FROM[status]:
        reason = receipt.get("reason")
        transition(
            session,
            message,
            status,
            note=f"receipt from {provider}" + (f": {reason}" if reason else ""),
            reasons=[status] if status != "delivered" else [],
        )
    return message


@dataclasses.dataclass(frozen=True)
class InboundResult:
    """What became of an inbound reply."""

    id: str
    opted_out: bool
    debtor_id: str | None


def receive_inbound(
    session: Session, tenant_id: str, provider: str, reply: Mapping[str, Any]
) -> InboundResult:
    """Store a reply; opt its sender out when it asks to stop, else announce it."""
    channel = str(reply["channel"])
    sender = str(reply["sender"])
    text = str(reply["text"])
    original: Message | None = None
    if reply.get("in_reply_to"):
        original = _find(session, provider, str(reply["in_reply_to"]))
    if original is None:
        original = session.scalar(
            select(Message)
            .where(Message.address == sender, Message.channel == channel)
            .order_by(Message.created_at.desc())
            .limit(1)
        )
    debtor_id = original.debtor_id if original is not None else None
    now = utcnow()
    opted_out = is_opt_out_intent(text) or bool(
        reply.get("subject") and is_opt_out_intent(str(reply["subject"]))
    )
    inbound = InboundMessage(
        id=new_id(),
        provider=provider,
        channel=channel,
        sender=sender,
        text=text,
        debtor_id=debtor_id,
        in_reply_to=original.id if original is not None else None,
        provider_message_id=reply.get("provider_message_id"),
        opted_out=opted_out,
        received_at=now,
    )
    session.add(inbound)
    if opted_out:
        record_opt_out(
            session,
            tenant_id,
            debtor_id=debtor_id,
            address=sender,
            channel=channel,
            source="inbound",
            at=now,
        )
    else:
        emit(
            session,
            events.MESSAGE_RECEIVED,
            {
                "inbound_id": inbound.id,
                "debtor_id": debtor_id,
                "channel": channel,
                "sender": sender,
                "text": text,
                "in_reply_to": inbound.in_reply_to,
            },
            subject=("inbound", inbound.id),
        )
    return InboundResult(id=inbound.id, opted_out=opted_out, debtor_id=debtor_id)
