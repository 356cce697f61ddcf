"""What a run of contact checks in one session shares, read in a few queries, not per check.

The send loop checks a whole claimed batch of messages in one transaction: a
:class:`ContactBatch` reads the tenant's settings, policy and unsubscribe secret once, and
the consents, opt-outs and recent attempts of every recipient it is told of
(:meth:`ContactBatch.preload`) in one query each. A recipient it was not told of is read
on first use. It is read inside the checking transaction, after the batch's messages are
locked: an opt-out committed before the batch's checks is seen by every check of it.
A batch does not see the writes it is used beside (attempts counted, opt-outs recorded):
use one per batch of checks about distinct recipients, as the send loop does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from ..contact_tables import ALL_CHANNELS, ContactAttempt, ContactConsent
from ..settings import settings_for
from .attempts import LOOKBACK_DAYS, recent_attempts
from .consent import consent_state, subjects
from .decision import Recipient
from .errors import ContactProblem
from .policy import PolicyView, effective_pack, get_policy
from .rulepack import RulePack
from .rules import Attempt
from .tokens import tenant_secret

__all__ = ["ContactBatch"]

Pair = tuple[str, str]


def _pairs(debtor_id: str | None, addresses: Iterable[str | None]) -> list[Pair]:
    """The distinct ``(kind, subject)`` pairs of a debtor and its addresses, in order."""
    found = subjects(debtor_id, None)
    for address in addresses:
        if address:
            found += subjects(None, address)
    return list(dict.fromkeys(found))


class ContactBatch:
    """The contact facts of one session's tenant at ``now``, loaded once and shared.

    :param settings: the tenant's notifications settings when the caller has read them.
    """

    def __init__(
        self, session: Session, now: dt.datetime, *, settings: Mapping[str, Any] | None = None
    ) -> None:
        self.session = session
        self.now = now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)
        self._settings = settings
        self._policy: PolicyView | None = None
        self._packs: dict[str | None, RulePack] = {}
        self._secret: str | None = None
        self._consents: dict[Pair, list[ContactConsent]] = {}
        self._attempts: dict[Pair, list[Attempt]] = {}

    @property
    def settings(self) -> Mapping[str, Any]:
        """The tenant's notifications settings, defaults filled in."""
        if self._settings is None:
            self._settings = settings_for(self.session)
        return self._settings

    def pack(self, country: str | None) -> RulePack:
        """The rule pack that governs ``country``, the tenant's overrides in.

        :raises ContactProblem: under ``auto`` when no built-in pack covers the country.
        """
        if country not in self._packs:
            if self._policy is None:
                self._policy = get_policy(self.session)
            self._packs[country] = effective_pack(
                self.session,
                country=country,
                default_country=self.settings["default_country"],
                policy=self._policy,
            )
        return self._packs[country]

    @property
    def secret(self) -> str:
        """The tenant's unsubscribe-link signing secret (made on first use)."""
        if self._secret is None:
            self._secret = tenant_secret(self.session)
        return self._secret

    def preload(self, recipients: Iterable[Recipient], addresses: Iterable[str] = ()) -> None:
        """Read the consents and recent attempts of all ``recipients`` (debtor and every
        address) and of the other ``addresses`` in one query each."""
        pairs: list[Pair] = []
        wanted: list[tuple[str | None, tuple[str | None, ...]]] = [
            (r.debtor_id, (r.email, r.phone, r.whatsapp)) for r in recipients
        ]
        wanted += [(None, (address,)) for address in addresses]
        for debtor_id, known in wanted:
            try:
                pairs += _pairs(debtor_id, known)
            except ContactProblem:
                continue  # unreadable: its own check says so, for its message alone
        self._load(pairs)

    def opted_out(self, *, debtor_id: str | None, address: str | None, channel: str) -> bool:
        """Whether the debtor or the address opted out of ``channel`` (or of every channel)."""
        return self.consent(debtor_id=debtor_id, address=address, channel=channel)[0] is not None

    def _load(self, pairs: Sequence[Pair]) -> None:
        missing = [pair for pair in dict.fromkeys(pairs) if pair not in self._consents]
        if not missing:
            return
        for pair in missing:
            self._consents[pair] = []
            self._attempts[pair] = []
        consents = select(ContactConsent).where(
            tuple_(ContactConsent.subject_kind, ContactConsent.subject).in_(missing)
        )
        for row in self.session.scalars(consents.order_by(ContactConsent.updated_at)):
            self._consents[(row.subject_kind, row.subject)].append(row)
        attempts = select(
            ContactAttempt.subject_kind,
            ContactAttempt.subject,
            ContactAttempt.channel,
            ContactAttempt.account_id,
            ContactAttempt.at,
            ContactAttempt.conversation,
        ).where(
            tuple_(ContactAttempt.subject_kind, ContactAttempt.subject).in_(missing),
            ContactAttempt.at >= self.now - dt.timedelta(days=LOOKBACK_DAYS),
            ContactAttempt.at <= self.now,
        )
        for kind, subject, channel, account, at, talk in self.session.execute(attempts):
            self._attempts[(kind, subject)].append(Attempt(channel, account, at, bool(talk)))

    def consent(
        self, *, debtor_id: str | None, address: str | None, channel: str
    ) -> tuple[str | None, bool]:
        """How the opt-out in force on ``channel`` arrived (or None), and whether a consent
        to it is recorded, for the debtor or the address."""
        pairs = _pairs(debtor_id, (address,))
        self._load(pairs)
        rows = [
            row
            for pair in pairs
            for row in self._consents[pair]
            if row.channel in (channel, ALL_CHANNELS)
        ]
        rows.sort(key=lambda row: row.updated_at)
        return consent_state(rows)

    def attempts(
        self, *, debtor_id: str | None, addresses: Sequence[str], now: dt.datetime
    ) -> list[Attempt]:
        """The attempts up to ``now`` (:data:`LOOKBACK_DAYS` back) on the debtor or its
        addresses."""
        if now != self.now:  # a check at another time: its own window
            return recent_attempts(self.session, debtor_id=debtor_id, addresses=addresses, now=now)
        pairs = _pairs(debtor_id, addresses)
        self._load(pairs)
        return [attempt for pair in pairs for attempt in self._attempts[pair]]
