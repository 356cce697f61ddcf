"""Contact-policy table: each case's decision and next allowed time were worked by hand.

Calendar facts used (2026): 8 March is a Sunday and the day New York moves from EST (UTC-5)
to EDT (UTC-4) at 02:00; 1 November is the Sunday it moves back at 02:00. Bogotá is UTC-5 and
Mexico City UTC-6 all year (no DST). 23 March is a Monday and Colombia's San José holiday
(moved from the 19th); 3 July is a Friday, the US Independence Day observed.
The expected times are written out, never computed by the code under test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from almacen.gateway.errors import UnprocessableError
from almacen.modules.notifications.contact.rulepack import (
    apply_overrides,
    load_overrides,
    rule_pack,
    rule_packs,
)
from almacen.modules.notifications.contact.rules import Attempt, Facts, evaluate

NY, LA, BOG, MEX = (
    "America/New_York",
    "America/Los_Angeles",
    "America/Bogota",
    "America/Mexico_City",
)
HOLIDAYS = {
    dt.date(2026, 3, 23): "San José",
    dt.date(2026, 7, 3): "Independence Day (observed)",
}
#: A tenant on Regulation F that calls only on weekdays 09:00-18:00 and texts twice a week.
TENANT = {
    "hours": {
        "mon": {"start": "09:00", "end": "18:00"},
        "tue": {"start": "09:00", "end": "18:00"},
        "wed": {"start": "09:00", "end": "18:00"},
        "thu": {"start": "09:00", "end": "18:00"},
        "fri": {"start": "09:00", "end": "18:00"},
        "sat": None,
        "sun": None,
    },
    "caps": [{"channels": ["sms"], "per": "channel", "max": 2, "window_days": 7}],
}


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def calls(*stamps: str, account: str | None = "A", channel: str = "voice") -> list[Attempt]:
    return [Attempt(channel, account, utc(stamp)) for stamp in stamps]


def pack(name: str, overrides: Mapping[str, Any] | None = None) -> Any:
    chosen = rule_pack(name)
    return apply_overrides(chosen, load_overrides(overrides)) if overrides else chosen


@dataclasses.dataclass
class Case:
    id: str
    pack: str
    zone: str
    now: str  # UTC
    channel: str
    allowed: bool
    reasons: tuple[str, ...]
    next_allowed: str | None  # local ISO time with offset, as worked by hand
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    overrides: Mapping[str, Any] | None = None


CASES = [
    # -- Regulation F: 08:00-21:00 local, every day -----------------------------------------
    Case(
        "us-weekday-10am",
        "us_reg_f",
        NY,
        "2026-03-10T14:00",
        "sms",
        True,
        (),
        "2026-03-10T10:00:00-04:00",
    ),
    Case(
        "us-07:30-waits-for-08",
        "us_reg_f",
        NY,
        "2026-03-10T11:30",
        "sms",
        False,
        ("outside_hours",),
        "2026-03-10T08:00:00-04:00",
    ),
    Case(
        "us-08:00-sharp-allowed",
        "us_reg_f",
        NY,
        "2026-03-10T12:00",
        "sms",
        True,
        (),
        "2026-03-10T08:00:00-04:00",
    ),
    Case(
        "us-21:00-sharp-blocked",
        "us_reg_f",
        NY,
        "2026-03-11T01:00",
        "sms",
        False,
        ("outside_hours",),
        "2026-03-11T08:00:00-04:00",
    ),
    Case(
        "us-21:30-next-morning",
        "us_reg_f",
        NY,
        "2026-03-11T01:30",
        "email",
        False,
        ("outside_hours",),
        "2026-03-11T08:00:00-04:00",
    ),
    # 01:30 EST on the spring-forward Sunday: 08:00 that day is already EDT (12:00 UTC).
    Case(
        "us-dst-spring-forward",
        "us_reg_f",
        NY,
        "2026-03-08T06:30",
        "sms",
        False,
        ("outside_hours",),
        "2026-03-08T08:00:00-04:00",
    ),
    # 01:30 EDT (the first one) on the fall-back Sunday: 08:00 that day is EST (13:00 UTC).
    Case(
        "us-dst-fall-back",
        "us_reg_f",
        NY,
        "2026-11-01T05:30",
        "sms",
        False,
        ("outside_hours",),
        "2026-11-01T08:00:00-05:00",
    ),
    Case(
        "us-sunday-is-allowed",
        "us_reg_f",
        NY,
        "2026-03-15T16:00",
        "sms",
        True,
        (),
        "2026-03-15T12:00:00-04:00",
    ),
    # One instant, two time zones: 07:30 in Los Angeles, 10:30 in New York.
    Case(
        "us-los-angeles-too-early",
        "us_reg_f",
        LA,
        "2026-07-15T14:30",
        "sms",
        False,
        ("outside_hours",),
        "2026-07-15T08:00:00-07:00",
    ),
    Case(
        "us-new-york-same-instant",
        "us_reg_f",
        NY,
        "2026-07-15T14:30",
        "sms",
        True,
        (),
        "2026-07-15T10:30:00-04:00",
    ),
    # -- Regulation F: seven calls in seven days per debt, and the week after a conversation --
    # Six calls about debt A (2-7 March): the seventh, on Sunday 8 March, is allowed.
    Case(
        "us-seventh-call-allowed",
        "us_reg_f",
        NY,
        "2026-03-08T17:00",
        "voice",
        True,
        (),
        "2026-03-08T13:00:00-04:00",
        {"attempts": calls(*(f"2026-03-0{d}T15:00" for d in range(2, 8))), "accounts": ("A",)},
    ),
    # Seven calls (2-8 March): the eighth is blocked until the 2 March call leaves the window,
    # on 9 March, from 08:00.
    Case(
        "us-eighth-call-blocked",
        "us_reg_f",
        NY,
        "2026-03-08T20:00",
        "voice",
        False,
        ("frequency_cap",),
        "2026-03-09T08:00:00-04:00",
        {"attempts": calls(*(f"2026-03-0{d}T15:00" for d in range(2, 9))), "accounts": ("A",)},
    ),
    # Seven calls on one day (5 March): the window frees on 12 March.
    Case(
        "us-seven-calls-one-day",
        "us_reg_f",
        NY,
        "2026-03-06T15:00",
        "voice",
        False,
        ("frequency_cap",),
        "2026-03-12T08:00:00-04:00",
        {"attempts": calls(*(f"2026-03-05T{h}:00" for h in range(14, 21))), "accounts": ("A",)},
    ),
    Case(
        "us-cap-is-per-debt",
        "us_reg_f",
        NY,
        "2026-03-08T20:00",
        "voice",
        True,
        (),
        "2026-03-08T16:00:00-04:00",
        {"attempts": calls(*(f"2026-03-0{d}T15:00" for d in range(2, 9))), "accounts": ("B",)},
    ),
    Case(
        "us-cap-is-for-calls-only",
        "us_reg_f",
        NY,
        "2026-03-08T20:00",
        "sms",
        True,
        (),
        "2026-03-08T16:00:00-04:00",
        {"attempts": calls(*(f"2026-03-0{d}T15:00" for d in range(2, 9))), "accounts": ("A",)},
    ),
    # A conversation on Tuesday 10 March: no call about that debt until Tuesday 17 March.
    Case(
        "us-week-after-conversation",
        "us_reg_f",
        NY,
        "2026-03-12T15:00",
        "voice",
        False,
        ("after_conversation",),
        "2026-03-17T08:00:00-04:00",
        {
            "attempts": [Attempt("voice", "A", utc("2026-03-10T15:00"), conversation=True)],
            "accounts": ("A",),
        },
    ),
    # -- standing rules: no next time --------------------------------------------------------
    Case(
        "us-opted-out",
        "us_reg_f",
        NY,
        "2026-03-10T14:00",
        "sms",
        False,
        ("opted_out",),
        None,
        {"opted_out": "inbound"},
    ),
    Case(
        "us-opted-out-at-night",
        "us_reg_f",
        NY,
        "2026-03-11T02:00",
        "sms",
        False,
        ("opted_out", "outside_hours"),
        None,
        {"opted_out": "unsubscribe"},
    ),
    Case(
        "us-disputed",
        "us_reg_f",
        NY,
        "2026-03-10T14:00",
        "email",
        False,
        ("disputed",),
        None,
        {"disputed": True},
    ),
    # -- Colombia, Ley 2300: Mon-Fri 07-19, Sat 08-15, no Sundays or holidays ----------------
    Case(
        "co-sunday",
        "co_ley_2300",
        BOG,
        "2026-03-15T15:00",
        "sms",
        False,
        ("closed_day",),
        "2026-03-16T07:00:00-05:00",
        {"consented": True},
    ),
    Case(
        "co-holiday",
        "co_ley_2300",
        BOG,
        "2026-03-23T15:00",
        "sms",
        False,
        ("holiday",),
        "2026-03-24T07:00:00-05:00",
        {"consented": True},
    ),
    # Saturday 15:30: Sunday is closed and Monday a holiday, so Tuesday at 07:00.
    Case(
        "co-saturday-afternoon",
        "co_ley_2300",
        BOG,
        "2026-03-21T20:30",
        "sms",
        False,
        ("outside_hours",),
        "2026-03-24T07:00:00-05:00",
        {"consented": True},
    ),
    Case(
        "co-saturday-14:59",
        "co_ley_2300",
        BOG,
        "2026-03-21T19:59",
        "sms",
        True,
        (),
        "2026-03-21T14:59:00-05:00",
        {"consented": True},
    ),
    Case(
        "co-06:59",
        "co_ley_2300",
        BOG,
        "2026-03-17T11:59",
        "whatsapp",
        False,
        ("outside_hours",),
        "2026-03-17T07:00:00-05:00",
        {"consented": True},
    ),
    Case(
        "co-19:00",
        "co_ley_2300",
        BOG,
        "2026-03-18T00:00",
        "sms",
        False,
        ("outside_hours",),
        "2026-03-18T07:00:00-05:00",
        {"consented": True},
    ),
    Case(
        "co-no-consent", "co_ley_2300", BOG, "2026-03-17T15:00", "sms", False, ("no_consent",), None
    ),
    # An SMS at 09:00 on Tuesday 17 March: an e-mail that afternoon waits for Wednesday 07:00.
    Case(
        "co-once-a-day",
        "co_ley_2300",
        BOG,
        "2026-03-17T20:00",
        "email",
        False,
        ("frequency_cap",),
        "2026-03-18T07:00:00-05:00",
        {"consented": True, "attempts": calls("2026-03-17T14:00", channel="sms", account=None)},
    ),
    # ... and another SMS waits a week from that day (24 March, a Tuesday).
    Case(
        "co-once-a-week-per-channel",
        "co_ley_2300",
        BOG,
        "2026-03-20T15:00",
        "sms",
        False,
        ("frequency_cap",),
        "2026-03-24T07:00:00-05:00",
        {"consented": True, "attempts": calls("2026-03-17T14:00", channel="sms", account=None)},
    ),
    # -- Mexico, CONDUSEF: 07:00-22:00 every day ---------------------------------------------
    Case(
        "mx-06:30",
        "mx_condusef",
        MEX,
        "2026-03-17T12:30",
        "sms",
        False,
        ("outside_hours",),
        "2026-03-17T07:00:00-06:00",
    ),
    Case(
        "mx-21:59",
        "mx_condusef",
        MEX,
        "2026-03-18T03:59",
        "sms",
        True,
        (),
        "2026-03-17T21:59:00-06:00",
    ),
    Case(
        "mx-22:00",
        "mx_condusef",
        MEX,
        "2026-03-18T04:00",
        "sms",
        False,
        ("outside_hours",),
        "2026-03-18T07:00:00-06:00",
    ),
    Case(
        "mx-sunday",
        "mx_condusef",
        MEX,
        "2026-03-15T16:00",
        "sms",
        True,
        (),
        "2026-03-15T10:00:00-06:00",
    ),
    # -- a tenant's stricter rules on Regulation F -------------------------------------------
    Case(
        "tenant-09:00-start",
        "us_reg_f",
        NY,
        "2026-03-10T12:30",
        "sms",
        False,
        ("outside_hours",),
        "2026-03-10T09:00:00-04:00",
        overrides=TENANT,
    ),
    Case(
        "tenant-no-saturdays",
        "us_reg_f",
        NY,
        "2026-03-14T15:00",
        "sms",
        False,
        ("closed_day",),
        "2026-03-16T09:00:00-04:00",
        overrides=TENANT,
    ),
    # Texts on Monday 9 and Tuesday 10 March: the third waits until Monday 16 at 09:00.
    Case(
        "tenant-two-texts-a-week",
        "us_reg_f",
        NY,
        "2026-03-11T14:00",
        "sms",
        False,
        ("frequency_cap",),
        "2026-03-16T09:00:00-04:00",
        {"attempts": calls("2026-03-09T15:00", "2026-03-10T15:00", channel="sms")},
        overrides=TENANT,
    ),
    Case(
        "tenant-blocks-holidays",
        "us_reg_f",
        NY,
        "2026-07-03T14:00",
        "sms",
        False,
        ("holiday",),
        "2026-07-04T08:00:00-04:00",
        overrides={"block_holidays": True},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_contact_policy_table(case: Case) -> None:
    extra = case.extra
    facts = Facts(
        now=utc(case.now),
        zone=ZoneInfo(case.zone),
        channel=case.channel,
        account_ids=tuple(extra.get("accounts", ())),
        opted_out=extra.get("opted_out"),
        consented=bool(extra.get("consented", False)),
        disputed=bool(extra.get("disputed", False)),
        attempts=extra.get("attempts", ()),
        holiday=HOLIDAYS.get,
    )
    decision = evaluate(pack(case.pack, case.overrides), facts)
    assert decision.allowed is case.allowed
    assert tuple(reason.code for reason in decision.reasons) == case.reasons
    expected = None if case.next_allowed is None else dt.datetime.fromisoformat(case.next_allowed)
    assert (decision.next_allowed_at and decision.next_allowed_at.timestamp()) == (
        expected and expected.timestamp()
    )
    if expected is not None:  # the same instant, shown with the debtor's UTC offset
        assert decision.next_allowed_at is not None
        assert decision.next_allowed_at.isoformat() == case.next_allowed
    # (timestamps: Python never calls an instant in a repeated hour equal across zones)
    assert decision.local_time.timestamp() == utc(case.now).timestamp()
    assert decision.local_time.tzinfo == ZoneInfo(case.zone)


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 25


def test_reasons_cite_their_source() -> None:
    facts = Facts(
        now=utc("2026-03-11T01:30"),
        zone=ZoneInfo(NY),
        channel="voice",
        attempts=calls(*(f"2026-03-0{d}T15:00" for d in range(4, 10))) + calls("2026-03-10T15:00"),
        account_ids=("A",),
    )
    decision = evaluate(rule_pack("us_reg_f"), facts)
    sources = {reason.code: reason.source for reason in decision.reasons}
    assert sources == {
        "outside_hours": "12 CFR 1006.6(b)(1)(i)",
        "frequency_cap": "12 CFR 1006.14(b)(2)(i)(A)",
    }
    tenant = evaluate(pack("us_reg_f", TENANT), dataclasses.replace(facts, channel="sms"))
    assert {r.source for r in tenant.reasons} == {"tenant"}


def test_every_pack_rule_cites_a_source() -> None:
    for found in rule_packs().values():
        assert all(window is None or window.source for window in found.hours.values())
        assert all(cap.source for cap in found.caps)
        assert all(rule.source for rule in found.quiet)
        assert found.opt_out_source
        if found.require_consent:
            assert found.consent_source
        if found.block_holidays:
            assert found.holidays_source
    assert set(rule_packs()) >= {"us_reg_f", "co_ley_2300", "mx_condusef"}


@pytest.mark.parametrize(
    ("name", "overrides", "pointer"),
    [
        (
            "us_reg_f",
            {"hours": {"sun": {"start": "07:00", "end": "22:00"}}},
            "/overrides/hours/sun",
        ),
        (
            "us_reg_f",
            {"hours": {"mon": {"start": "08:00", "end": "21:30"}}},
            "/overrides/hours/mon",
        ),
        (
            "co_ley_2300",
            {"hours": {"sun": {"start": "09:00", "end": "12:00"}}},
            "/overrides/hours/sun",
        ),
        ("co_ley_2300", {"block_holidays": False}, "/overrides/block_holidays"),
        ("co_ley_2300", {"require_consent": False}, "/overrides/require_consent"),
        ("us_reg_f", {"block_disputes": False}, "/overrides/block_disputes"),
    ],
)
def test_an_override_may_not_relax_the_law(
    name: str, overrides: Mapping[str, Any], pointer: str
) -> None:
    with pytest.raises(UnprocessableError) as caught:
        apply_overrides(rule_pack(name), load_overrides(overrides))
    assert [fault["pointer"] for fault in caught.value.errors] == [pointer]


def test_a_default_without_a_legal_source_may_be_relaxed() -> None:
    # Mexico's pack blocks disputed debts as Almacén's own default (no source): a tenant may
    # turn it off, which it may not do under Regulation F.
    relaxed = apply_overrides(rule_pack("mx_condusef"), load_overrides({"block_disputes": False}))
    facts = Facts(now=utc("2026-03-17T16:00"), zone=ZoneInfo(MEX), channel="sms", disputed=True)
    assert evaluate(relaxed, facts).allowed
    assert not evaluate(rule_pack("mx_condusef"), facts).allowed


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"hours": {"mon": {"start": "18:00", "end": "09:00"}}}, "/overrides/hours/mon/end"),
        ({"hours": {"funday": None}}, "/overrides/hours/funday"),
        ({"caps": [{"per": "week", "max": 1, "window_days": 7}]}, "/overrides/caps/0/per"),
        ({"caps": [{"per": "channel", "max": 0, "window_days": 7}]}, "/overrides/caps/0/max"),
        ({"block_holidays": "sometimes"}, "/overrides/block_holidays"),
        ({"curfew": True}, "/overrides/curfew"),
    ],
)
def test_a_malformed_override_names_where(overrides: Mapping[str, Any], pointer: str) -> None:
    with pytest.raises(UnprocessableError) as caught:
        load_overrides(overrides)
    assert pointer in [fault["pointer"] for fault in caught.value.errors]
