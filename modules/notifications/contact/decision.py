"""The shapes of a contact check: who is contacted, and the answer with every reason."""

from __future__ import annotations

import dataclasses
import datetime as dt

__all__ = ["ContactDecision", "Reason", "Recipient"]


@dataclasses.dataclass(frozen=True)
class Reason:
    """Why a contact is not allowed now; ``source`` is the legal citation, or ``tenant``."""

    code: str
    message: str
    source: str | None


@dataclasses.dataclass(frozen=True)
class ContactDecision:
    """May the debtor be contacted now, why not, and from when.

    ``next_allowed_at`` is the check's own time when allowed, the earliest later time when
    only time-bound rules block (hours, holidays, caps), and None when a rule blocks until
    something changes (an opt-out, missing consent, a dispute).
    """

    allowed: bool
    reasons: tuple[Reason, ...]
    next_allowed_at: dt.datetime | None
    local_time: dt.datetime


@dataclasses.dataclass(frozen=True)
class Recipient:
    """Who is contacted: a ledger debtor, or a person named by the caller, and where."""

    debtor_id: str | None
    time_zone: str
    country: str | None
    locale: str | None
    email: str | None
    phone: str | None
    whatsapp: str | None

    def address(self, channel: str) -> str | None:
        """The address used on ``channel`` (WhatsApp falls back to the phone number)."""
        if channel == "email":
            return self.email
        if channel == "whatsapp":
            return self.whatsapp or self.phone
        if channel in ("sms", "voice"):
            return self.phone
        return None
