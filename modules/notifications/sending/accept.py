"""Accepting a message: resolve the recipient and channel, render it now, fold it into a
pending message for the same debtor, or queue it.

Rendering at acceptance makes a bad template, unknown locale or missing variable a 422 to
the caller rather than a failure in the worker. The message row is the module's outbox: it
commits with the caller's transaction and the send loop picks it up afterwards.

Merging: a request that names ``account_ids`` for a known debtor (or address) waits
``merge_window_seconds`` before it is sent; requests for the same debtor, channel and
template arriving meanwhile are folded into it (their accounts added, their data appended
to ``accounts``) and it is rendered again, so a debtor with three due accounts gets one
message listing three, not three messages.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from almacen.gateway.db import new_id, utcnow
from almacen.gateway.errors import IdempotencyMismatchError, UnprocessableError

from ..channels import configured_channels
from ..contact import ContactBatch, Recipient, check_contact, resolve_recipient
from ..message_tables import Message
from ..settings import settings_for
from ..templates import RenderedMessage, render_message
from .lifecycle import hold, transition

__all__ = ["BEST", "PREFERENCE", "accept_message", "address_for", "render_data"]

BEST = "best"
#: The order ``best`` tries channels in: the cheapest and least intrusive first.
PREFERENCE = ("email", "whatsapp", "sms")
#: Which recipient field holds the address of each built-in channel.
ADDRESS_FIELDS = {"email": "email", "sms": "phone", "whatsapp": "whatsapp"}


@dataclasses.dataclass(frozen=True)
class Accepted:
    """The message a request produced, and whether it is new (201) or not (200)."""

    message: Message
    created: bool


def address_for(recipient: Recipient, channel: str, given: Mapping[str, Any]) -> str | None:
    """The recipient's address on ``channel`` (WhatsApp falls back to the phone number)."""
    if channel == "whatsapp":
        return recipient.whatsapp or recipient.phone
    field = ADDRESS_FIELDS.get(channel)
    if field is not None:
        value = getattr(recipient, field)
        return str(value) if value else None
    address = given.get("address")
    return str(address) if address else None


def render_data(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The template's data: the latest request's data, plus ``accounts``, one entry per
    folded request (its data and ``account_ids``), so a template may list them all."""
    latest = dict(items[-1].get("data") or {})
    latest["accounts"] = [
        {**dict(item.get("data") or {}), "account_ids": list(item.get("account_ids") or [])}
        for item in items
    ]
    return latest


def fingerprint(data: Mapping[str, Any]) -> str:
    """SHA-256 of the request (without its key): the same key must come with the same one."""
    plain = {k: v for k, v in data.items() if k != "idempotency_key"}
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _by_key(session: Session, key: str) -> Message | None:
    return session.scalar(select(Message).where(Message.idempotency_key == key))


def _channel(
    session: Session, tenant_id: str, recipient: Recipient, wanted: str, given: Mapping[str, Any]
) -> str:
    """``wanted``, or for ``best`` the first configured channel the recipient has an address
    on, preferring one the contact policy allows now."""
    if wanted != BEST:
        return wanted
    configured = configured_channels(session, tenant_id)
    candidates = [c for c in PREFERENCE if c in configured and address_for(recipient, c, given)]
    candidates += [
        c
        for c in configured
        if c not in candidates and c not in PREFERENCE and address_for(recipient, c, given)
    ]
    if not candidates:
        raise UnprocessableError(
            "No channel the tenant has configured reaches this recipient.",
            errors=[{"pointer": "/channel", "detail": "no usable channel for 'best'"}],
        )
    now = utcnow()
    for channel in candidates:
        if check_contact(session, tenant_id, recipient, channel, now).allowed:
            return channel
    return candidates[0]


def _render(
    session: Session, tenant_id: str, message: Message, items: Sequence[Mapping[str, Any]]
) -> RenderedMessage:
    rendered = render_message(
        session,
        tenant_id,
        template=message.template,
        channel=message.channel,
        locale=message.locale,
        data=render_data(items),
    )
    message.subject = rendered.subject
    message.text = rendered.text
    message.html = rendered.html
    message.locale = rendered.locale
    message.template_version = rendered.template_version
    message.encoding = rendered.encoding
    message.segments = rendered.segments
    return rendered


def _mergeable(session: Session, key: str, now: dt.datetime) -> Message | None:
    statement = (
        select(Message)
        .where(
            Message.merge_key == key,
            Message.status == "queued",
            Message.merge_until > now,
            Message.attempts == 0,
        )
        .order_by(Message.created_at)
        .limit(1)
    )
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        statement = statement.with_for_update()
    return session.scalar(statement)


def accept_message(
    session: Session, tenant_id: str, data: Mapping[str, Any], *, key: str | None = None
) -> Accepted:
    """Accept one send request (see :class:`~.schemas.MessageCreateSchema`).

    :param key: the Idempotency-Key (HTTP header, or the action's ``idempotency_key``).
    :raises UnprocessableError: unusable recipient or channel, bad template, locale or data,
        or a key reused for another request.
    """
    key = key or data.get("idempotency_key")
    digest = fingerprint(data)
    if key is not None:
        existing = _by_key(session, key)
        if existing is not None:
            if existing.fingerprint != digest:
                raise IdempotencyMismatchError(
                    "The Idempotency-Key was used for a different message.",
                    errors=[{"header": "Idempotency-Key", "detail": "reused with another body"}],
                )
            return Accepted(existing, created=False)
    config = settings_for(session)
    given = dict(data.get("recipient") or {})
    recipient = resolve_recipient(
        session, tenant_id, debtor_id=data.get("debtor_id"), given=given, settings=config
    )
    channel = _channel(session, tenant_id, recipient, data["channel"], given)
    address = address_for(recipient, channel, given)
    if not address:
        field = "whatsapp" if channel == "whatsapp" else ADDRESS_FIELDS.get(channel, "address")
        raise UnprocessableError(
            f"The recipient has no address on the {channel} channel.",
            errors=[{"pointer": f"/recipient/{field}", "detail": f"needed for {channel}"}],
        )
    if channel not in configured_channels(session, tenant_id):
        raise UnprocessableError(
            f"The tenant has not configured the {channel} channel.",
            errors=[{"pointer": "/channel", "detail": f"{channel} is not configured"}],
        )
    locale = data.get("locale") or recipient.locale or config["default_locale"]
    account_ids = list(dict.fromkeys(data.get("account_ids") or []))
    item = {"data": dict(data.get("data") or {}), "account_ids": account_ids}
    now = utcnow()
    window = dt.timedelta(seconds=config["merge_window_seconds"])
    merge_key = None
    if account_ids and window and key is None:
        merge_key = f"{recipient.debtor_id or address}|{channel}|{data['template']}"[:200]
        target = _mergeable(session, merge_key, now)
        if target is not None:
            items = [*target.data, item]
            _render(session, tenant_id, target, items)
            target.data = items
            target.account_ids = list(dict.fromkeys([*target.account_ids, *account_ids]))
            transition(
                session, target, "queued", note=f"merged a request ({', '.join(account_ids)})"
            )
            return Accepted(target, created=False)
    message = Message(
        id=new_id(),
        debtor_id=recipient.debtor_id,
        channel=channel,
        address=address,
        recipient=dataclasses.asdict(recipient),
        template=data["template"],
        locale=locale,
        data=[item],
        account_ids=account_ids,
        status="queued",
        on_blocked=data.get("on_blocked") or "wait",
        attempts=0,
        next_attempt_at=now + window if merge_key else now,
        merge_until=now + window if merge_key else None,
        merge_key=merge_key,
        idempotency_key=key,
        fingerprint=digest,
        reasons=[],
        created_at=now,
        updated_at=now,
    )
    _render(session, tenant_id, message, [item])
    session.add(message)
    transition(session, message, "queued", note="accepted")
    # One read of the recipient's consents and attempts serves both checks.
    batch = ContactBatch(session, now, settings=config)
    batch.preload([recipient], [address])
    if batch.opted_out(debtor_id=recipient.debtor_id, address=address, channel=channel):
        hold(session, message, ["opted_out"], None)
        return Accepted(message, created=True)
    decision = check_contact(session, tenant_id, recipient, channel, now, account_ids, batch=batch)
    if not decision.allowed:
        hold(session, message, [r.code for r in decision.reasons], decision.next_allowed_at)
    return Accepted(message, created=True)
