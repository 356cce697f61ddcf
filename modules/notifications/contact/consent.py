"""Consent and opt-outs: written at once, read by every contact check.

A row is about a debtor or a bare address (see :mod:`..contact_tables`). An opt-out is
recorded for each subject it names (the debtor *and* the address when both are known), so a
later message to that address is blocked even when it no longer carries the debtor's id. When
the tenant has the ledger, the debtor's consent there is updated too (``ledger.set_consent``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session

from almacen import ActionUnavailableError, emit, run_action
from almacen.gateway.errors import UnprocessableError

from .. import events
from ..contact_tables import ALL_CHANNELS, ContactConsent
from .errors import check_text

__all__ = [
    "CONSENTED",
    "OPTED_OUT",
    "consent_rows",
    "consent_state",
    "has_consent",
    "is_opted_out",
    "normalise_address",
    "opted_out_source",
    "record_consent",
    "record_opt_out",
    "subjects",
]

OPTED_OUT = "opted_out"
CONSENTED = "consented"
#: Channels the ledger keeps consent for (``ledger.debtors.CHANNELS``).
LEDGER_CHANNELS = ("sms", "whatsapp", "email", "voice", "letter")


def normalise_address(address: str) -> str:
    """An address as stored: e-mail lower-cased; a phone number as ``+`` and digits (a
    provider's prefix such as ``whatsapp:`` dropped)."""
    text = address.strip()
    if "@" in text:
        return text.lower()
    digits = "".join(c for c in text if c.isdigit())
    if not digits:  # neither an e-mail nor a number (a webhook's URL...): as given
        return text.lower()
    # "whatsapp:+57300..." (a provider's prefix) is the same number as "+57300...".
    first = next((i for i, c in enumerate(text) if c.isdigit()), len(text))
    return ("+" if "+" in text[:first] else "") + digits


def subjects(debtor_id: str | None, address: str | None) -> list[tuple[str, str]]:
    """The ``(kind, subject)`` pairs a debtor id and an address name."""
    check_text(debtor_id, "/debtor_id")
    check_text(address, "/address")
    found: list[tuple[str, str]] = []
    if debtor_id:
        found.append(("debtor", debtor_id))
    if address:
        found.append(("address", normalise_address(address)))
    return found


def consent_rows(
    session: Session, pairs: Sequence[tuple[str, str]], channels: Iterable[str]
) -> list[ContactConsent]:
    """The stored consent rows of these subjects on these channels."""
    if not pairs:
        return []
    statement = select(ContactConsent).where(
        tuple_(ContactConsent.subject_kind, ContactConsent.subject).in_(pairs),
        ContactConsent.channel.in_(list(channels)),
    )
    return list(session.scalars(statement.order_by(ContactConsent.updated_at)))


def consent_state(rows: Iterable[ContactConsent]) -> tuple[str | None, bool]:
    """What rows (oldest first) say: how the opt-out in force arrived (or None), and
    whether a consent is recorded."""
    opted: str | None = None
    consented = False
    for row in rows:
        if row.status == OPTED_OUT:
            opted = row.source if opted is None else opted
        elif row.status == CONSENTED:
            consented = True
    return opted, consented


def opted_out_source(
    session: Session, *, debtor_id: str | None, address: str | None, channel: str
) -> str | None:
    """How the opt-out in force on ``channel`` arrived (``inbound``...), or None."""
    rows = consent_rows(session, subjects(debtor_id, address), (channel, ALL_CHANNELS))
    return consent_state(rows)[0]


def is_opted_out(
    session: Session, tenant_id: str, *, debtor_id: str | None, address: str | None, channel: str
) -> bool:
    """Whether the debtor or the address opted out of ``channel`` (or of every channel)."""
    _check_scope(session, tenant_id)
    return (
        opted_out_source(session, debtor_id=debtor_id, address=address, channel=channel) is not None
    )


def has_consent(
    session: Session, *, debtor_id: str | None, address: str | None, channel: str
) -> bool:
    """Whether a consent to ``channel`` is recorded here for the debtor or the address."""
    rows = consent_rows(session, subjects(debtor_id, address), (channel, ALL_CHANNELS))
    return consent_state(rows)[1]


def _check_scope(session: Session, tenant_id: str) -> None:
    if session.info.get("tenant_id") != tenant_id:
        from almacen.gateway.db import UnscopedQueryError

        raise UnscopedQueryError(
            f"contact data of tenant {tenant_id} needs a session opened for that tenant"
        )


def _write(
    session: Session,
    pairs: Sequence[tuple[str, str]],
    channel: str,
    *,
    status: str,
    source: str,
    at: dt.datetime,
) -> None:
    existing = {
        (row.subject_kind, row.subject): row for row in consent_rows(session, pairs, (channel,))
    }
    for kind, subject in pairs:
        row = existing.get((kind, subject))
        if row is None:
            session.add(
                ContactConsent(
                    subject_kind=kind,
                    subject=subject,
                    channel=channel,
                    status=status,
                    source=source,
                    updated_at=at,
                )
            )
        elif row.status != status:
            row.status, row.source, row.updated_at = status, source, at
    session.flush()


def _require_subject(debtor_id: str | None, address: str | None) -> list[tuple[str, str]]:
    pairs = subjects(debtor_id, address)
    if not pairs:
        detail = "name a debtor_id or an address"
        raise UnprocessableError(detail, errors=[{"pointer": "/debtor_id", "detail": detail}])
    return pairs


def _mirror(
    session: Session, debtor_id: str | None, channel: str | None, data: dict[str, bool]
) -> None:
    """Tell the ledger (when the tenant has it) the debtor's new consent on ``channel``."""
    if debtor_id is None:
        return
    channels = LEDGER_CHANNELS if channel is None else (channel,)
    for name in channels:
        if name not in LEDGER_CHANNELS:
            continue
        try:
            run_action(
                session, "ledger.set_consent", {"debtor_id": debtor_id, "channel": name, **data}
            )
        except ActionUnavailableError:
            return  # no ledger for this tenant: our own rows are the record


def record_opt_out(
    session: Session,
    tenant_id: str,
    *,
    debtor_id: str | None,
    address: str | None,
    channel: str | None,
    source: str,
    at: dt.datetime,
) -> None:
    """Record an opt-out of ``channel`` (None: every channel) at once, and announce it.

    Idempotent: opting out again changes nothing and emits nothing. Emits
    ``notifications.opted_out`` and mirrors the opt-out into the ledger when the tenant has it.

    :raises UnprocessableError: when neither a debtor nor an address is named.
    """
    _check_scope(session, tenant_id)
    pairs = _require_subject(debtor_id, address)
    stored = channel or ALL_CHANNELS
    before = [row for row in consent_rows(session, pairs, (stored,)) if row.status == OPTED_OUT]
    if len(before) == len(pairs):
        return
    _write(session, pairs, stored, status=OPTED_OUT, source=source, at=at)
    _mirror(session, debtor_id, channel, {"opted_out": True})
    emit(
        session,
        events.OPTED_OUT,
        {"debtor_id": debtor_id, "address": address, "channel": channel, "source": source},
        subject=("debtor", debtor_id) if debtor_id else None,
    )


def record_consent(
    session: Session,
    tenant_id: str,
    *,
    debtor_id: str | None,
    address: str | None,
    channel: str | None,
    source: str,
    at: dt.datetime,
) -> None:
    """Record that the debtor authorised ``channel`` (None: every channel it has a row for).

    A consent given after an opt-out lifts it (the debtor asked again); with ``channel`` None
    every stored row of the subjects becomes a consent, the ``*`` opt-out included.
    """
    _check_scope(session, tenant_id)
    pairs = _require_subject(debtor_id, address)
    if channel is None:
        for row in consent_rows(session, pairs, _stored_channels(session, pairs)):
            row.status, row.source, row.updated_at = CONSENTED, source, at
        _write(session, pairs, ALL_CHANNELS, status=CONSENTED, source=source, at=at)
    else:
        _write(session, pairs, channel, status=CONSENTED, source=source, at=at)
    _mirror(session, debtor_id, channel, {"consent": True, "opted_out": False})


def _stored_channels(session: Session, pairs: Sequence[tuple[str, str]]) -> list[str]:
    statement = select(ContactConsent.channel).where(
        or_(
            *(
                (ContactConsent.subject_kind == kind) & (ContactConsent.subject == subject)
                for kind, subject in pairs
            )
        )
    )
    return sorted(set(session.scalars(statement)))
