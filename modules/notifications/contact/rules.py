"""The contact rules as pure functions: facts in, a decision with every reason out.

Hours, days and caps are counted in the debtor's local wall time (``zoneinfo``), so a window
of 08:00-21:00 stays 08:00-21:00 across a daylight-saving change. Frequency caps count
attempts over rolling windows of *local calendar days*: a cap of 7 in 7 days counts the
attempts of the day checked and the six before it, so once it is full the next contact is
allowed on the day the oldest counted attempt leaves the window (Regulation F counts
"consecutive days" this way). The next allowed time is the earliest instant at which every
time-bound rule passes, found by moving forward until no rule moves it further.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from .decision import ContactDecision, Reason
from .rulepack import DAYS, Cap, Quiet, RulePack

__all__ = ["Attempt", "Facts", "evaluate"]

#: How many days ahead the next allowed time is looked for (past it: None, say why).
HORIZON_DAYS = 400
_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclasses.dataclass(frozen=True)
class Attempt:
    """A past contact: its channel, the debt it was about (None: none named), and when."""

    channel: str
    account_id: str | None
    at: dt.datetime
    conversation: bool = False


@dataclasses.dataclass(frozen=True)
class Facts:
    """What a check knows about the debtor and the moment."""

    now: dt.datetime
    zone: ZoneInfo
    channel: str
    account_ids: tuple[str, ...] = ()
    #: The source of the opt-out in force on this channel (e.g. ``inbound``), or None.
    opted_out: str | None = None
    consented: bool = False
    disputed: bool = False
    attempts: Sequence[Attempt] = ()
    #: The name of the public holiday on a local date, or None (no calendar: never).
    holiday: Callable[[dt.date], str | None] = lambda _day: None


def _at(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The instant of local wall time ``time`` on ``day`` (normalised across DST gaps)."""
    naive = dt.datetime.combine(day, time)
    return naive.replace(tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


def _relevant(rule: Cap | Quiet, facts: Facts, account_id: str | None) -> list[Attempt]:
    """The attempts a rule counts for one debt (``account_id``) of this check."""
    found = []
    for attempt in facts.attempts:
        if rule.per == "channel" and attempt.channel != facts.channel:
            continue
        if rule.channels is not None and attempt.channel not in rule.channels:
            continue
        # An attempt about no named account counts against every debt: the safe side.
        if (
            rule.per == "debt"
            and account_id is not None
            and attempt.account_id not in (account_id, None)
        ):
            continue
        found.append(attempt)
    return found


def _debts(rule: Cap | Quiet, facts: Facts) -> tuple[str | None, ...]:
    if rule.per == "debt" and facts.account_ids:
        return facts.account_ids
    return (None,)


def _cap_free_at(cap: Cap, facts: Facts, when: dt.datetime) -> dt.datetime | None:
    """When ``cap`` next allows a contact at or after ``when``; None if it allows it then."""
    if not cap.applies_to(facts.channel):
        return None
    today = when.astimezone(facts.zone).date()
    first = today - dt.timedelta(days=cap.window_days - 1)
    latest: dt.datetime | None = None
    for debt in _debts(cap, facts):
        days = sorted(
            day
            for day in (a.at.astimezone(facts.zone).date() for a in _relevant(cap, facts, debt))
            if first <= day <= today
        )
        if len(days) < cap.max:
            continue
        leaves = days[len(days) - cap.max] + dt.timedelta(days=cap.window_days)
        free = _at(leaves, dt.time(0, 0), facts.zone)
        latest = free if latest is None else max(latest, free)
    return latest


def _quiet_free_at(rule: Quiet, facts: Facts, when: dt.datetime) -> dt.datetime | None:
    """When a pause after a conversation ends, if it covers ``when``."""
    if not rule.applies_to(facts.channel):
        return None
    today = when.astimezone(facts.zone).date()
    latest: dt.datetime | None = None
    for debt in _debts(rule, facts):
        talks = [
            a.at.astimezone(facts.zone).date()
            for a in _relevant(rule, facts, debt)
            if a.conversation
        ]
        if not talks:
            continue
        ends = max(talks) + dt.timedelta(days=rule.days)
        if today < ends:
            free = _at(ends, dt.time(0, 0), facts.zone)
            latest = free if latest is None else max(latest, free)
    return latest


def _open_at(pack: RulePack, facts: Facts, when: dt.datetime) -> dt.datetime | None:
    """The earliest instant at or after ``when`` inside an open window; None past the horizon."""
    local = when.astimezone(facts.zone)
    for offset in range(HORIZON_DAYS):
        day = local.date() + dt.timedelta(days=offset)
        window = pack.hours[day.weekday()]
        if window is None or (pack.block_holidays and facts.holiday(day) is not None):
            continue
        start = _at(day, window.start, facts.zone)
        end = _at(day, window.end, facts.zone)
        if offset == 0 and local >= end:
            continue
        return max(start, local)
    return None


def _time_reasons(pack: RulePack, facts: Facts) -> list[Reason]:
    """Reasons of the time-bound rules (hours, days, holidays, caps, pauses) at ``now``."""
    reasons: list[Reason] = []
    local = facts.now.astimezone(facts.zone)
    weekday = local.weekday()
    window = pack.hours[weekday]
    if window is None:
        reasons.append(
            Reason("closed_day", f"no contact on {_NAMES[weekday]}s", pack.closed_sources[weekday])
        )
    else:
        start, end = (
            _at(local.date(), window.start, facts.zone),
            _at(local.date(), window.end, facts.zone),
        )
        if not start <= local < end:
            reasons.append(
                Reason(
                    "outside_hours",
                    f"{local:%H:%M} local is outside {window.start:%H:%M}-{window.end:%H:%M} "
                    f"on {DAYS[weekday]}",
                    window.source,
                )
            )
    if pack.block_holidays:
        name = facts.holiday(local.date())
        if name is not None:
            reasons.append(
                Reason(
                    "holiday", f"{local.date()} is a public holiday ({name})", pack.holidays_source
                )
            )
    for cap in pack.caps:
        if _cap_free_at(cap, facts, facts.now) is not None:
            scope = {"debt": "per debt", "channel": "on this channel", "recipient": "in all"}
            reasons.append(
                Reason(
                    "frequency_cap",
                    f"{cap.max} contact(s) in {cap.window_days} day(s) {scope[cap.per]} "
                    f"already made ({cap.id})",
                    cap.source,
                )
            )
    for rule in pack.quiet:
        if _quiet_free_at(rule, facts, facts.now) is not None:
            reasons.append(
                Reason(
                    "after_conversation",
                    f"no contact within {rule.days} days of a conversation ({rule.id})",
                    rule.source,
                )
            )
    return reasons


def _standing_reasons(pack: RulePack, facts: Facts) -> list[Reason]:
    """Reasons that hold until something changes: opt-out, consent, dispute."""
    reasons: list[Reason] = []
    if facts.opted_out is not None:
        reasons.append(
            Reason(
                "opted_out",
                f"the debtor opted out of {facts.channel} ({facts.opted_out})",
                pack.opt_out_source,
            )
        )
    if pack.require_consent and not facts.consented:
        reasons.append(
            Reason(
                "no_consent",
                f"the debtor has not authorised contact by {facts.channel}",
                pack.consent_source,
            )
        )
    if pack.block_disputes and facts.disputed:
        reasons.append(
            Reason("disputed", "a debt of this debtor is disputed", pack.disputes_source)
        )
    return reasons


def _next_allowed(pack: RulePack, facts: Facts) -> dt.datetime | None:
    when = facts.now.astimezone(facts.zone)
    limit = when + dt.timedelta(days=HORIZON_DAYS)
    while when < limit:
        moved = when
        for cap in pack.caps:
            moved = max(moved, _cap_free_at(cap, facts, moved) or moved)
        for rule in pack.quiet:
            moved = max(moved, _quiet_free_at(rule, facts, moved) or moved)
        opened = _open_at(pack, facts, moved)
        if opened is None:
            return None
        if opened == when:
            return when
        when = opened
    return None


def evaluate(pack: RulePack, facts: Facts) -> ContactDecision:
    """Apply ``pack`` to ``facts``: allowed or not, every reason, and the next allowed time."""
    local = facts.now.astimezone(facts.zone)
    standing = _standing_reasons(pack, facts)
    timed = _time_reasons(pack, facts)
    reasons = tuple(standing + timed)
    if not reasons:
        return ContactDecision(True, (), local, local)
    following = None if standing else _next_allowed(pack, facts)
    if not standing and following is None:
        reasons += (
            Reason(
                "no_window",
                f"no allowed time in the next {HORIZON_DAYS} days",
                None,
            ),
        )
    return ContactDecision(False, reasons, following, local)
