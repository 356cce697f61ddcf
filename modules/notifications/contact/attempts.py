"""Contact attempts: what was sent or called, when and about which debts (feeds the caps)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from ..contact_tables import ContactAttempt
from .consent import subjects
from .rules import Attempt

__all__ = ["LOOKBACK_DAYS", "add_attempt", "recent_attempts"]

#: How far back a check reads attempts: the longest window a cap or pause may have.
LOOKBACK_DAYS = 367


def add_attempt(
    session: Session,
    *,
    debtor_id: str | None,
    address: str | None,
    channel: str,
    account_ids: Sequence[str],
    at: dt.datetime,
    conversation: bool = False,
) -> None:
    """Record one contact (a row per account) under the debtor, or the address without one.

    Only one subject is written (the debtor when known): counting reads both, so recording
    both would count the contact twice. The rows are flushed with the session's next query
    or commit (the send loop flushes a batch's writes together).
    """
    kind, subject = subjects(debtor_id, address)[0]
    accounts: list[str | None] = list(account_ids) or [None]
    for account_id in accounts:
        session.add(
            ContactAttempt(
                subject_kind=kind,
                subject=subject,
                channel=channel,
                account_id=account_id,
                conversation=conversation,
                at=at,
            )
        )


def recent_attempts(
    session: Session, *, debtor_id: str | None, addresses: Sequence[str], now: dt.datetime
) -> list[Attempt]:
    """The attempts up to ``now`` (:data:`LOOKBACK_DAYS` back) on the debtor or its addresses."""
    pairs = subjects(debtor_id, None) + [p for a in addresses for p in subjects(None, a)]
    if not pairs:
        return []
    rows = session.execute(
        select(
            ContactAttempt.channel,
            ContactAttempt.account_id,
            ContactAttempt.at,
            ContactAttempt.conversation,
        ).where(
            tuple_(ContactAttempt.subject_kind, ContactAttempt.subject).in_(pairs),
            ContactAttempt.at >= now - dt.timedelta(days=LOOKBACK_DAYS),
            ContactAttempt.at <= now,
        )
    )
    return [Attempt(channel, account, at, bool(talk)) for channel, account, at, talk in rows]
