"""Contact checks over a session: who the recipient is, what is known of them, the decision.

The ledger (when the tenant has it) supplies the debtor's time zone, language, contact points,
consents and disputes through ``ledger.get_debtor``; the calendar (when the tenant has it)
supplies public holidays through ``calendar.is_business_day``. Without them a check uses what
the caller gives and the tenant's defaults, and a pack that blocks holidays has none to block.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from almacen import ActionInputError, ActionUnavailableError, run_action
from almacen.gateway.db import UnscopedQueryError
from almacen.gateway.errors import NotFoundError

from ..settings import settings_for
from .attempts import add_attempt
from .batch import ContactBatch
from .decision import ContactDecision, Recipient
from .errors import check_text, fault
from .rulepack import RulePack
from .rules import Facts, evaluate
from .tokens import make_token, tenant_secret, unsubscribe_path

__all__ = [
    "BUILT_IN_CHANNELS",
    "CheckOutcome",
    "attempt_request",
    "check_contact",
    "check_outcome",
    "check_request",
    "known_channels",
    "record_attempt",
    "require_debtor",
    "resolve_recipient",
    "unsubscribe_url",
]

#: Channels every tenant may name; plugins add theirs through ``almacen_notifications_channels``.
BUILT_IN_CHANNELS = ("email", "sms", "whatsapp", "voice", "letter", "webhook")
_GIVEN = ("time_zone", "country", "locale", "email", "phone", "whatsapp")


@dataclasses.dataclass(frozen=True)
class CheckOutcome:
    """A decision with what it was made for: the recipient, channel and rule pack."""

    decision: ContactDecision
    recipient: Recipient
    channel: str
    rule_pack: str


def known_channels(session: Session) -> frozenset[str]:
    """The built-in channels and those of the channel providers plugins add."""
    names = set(BUILT_IN_CHANNELS)
    registry = session.info.get("registry")
    hook = getattr(getattr(registry, "hook", None), "almacen_notifications_channels", None)
    if hook is not None:
        for providers in hook():
            for provider in providers or ():
                names.add(str(provider.channel))
    return frozenset(names)


def _ledger_profile(session: Session, debtor_id: str) -> Mapping[str, Any] | None:
    """``ledger.get_debtor``'s answer, None without the ledger.

    :raises ContactProblem: at ``/debtor_id`` when the ledger has no such debtor.
    """
    try:
        return run_action(session, "ledger.get_debtor", {"debtor_id": debtor_id})
    except ActionUnavailableError:
        return None
    except (NotFoundError, ActionInputError):
        raise fault("/debtor_id", f"no debtor {debtor_id}") from None


def _first(points: Sequence[Mapping[str, Any]], kind: str) -> str | None:
    return next((str(p["value"]) for p in points if p.get("kind") == kind), None)


def _zone(name: str, pointer: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise fault(pointer, f"{name!r} is not an IANA time zone") from None


def resolve_recipient(
    session: Session,
    tenant_id: str,
    *,
    debtor_id: str | None,
    given: Mapping[str, Any],
    settings: Mapping[str, Any] | None = None,
) -> Recipient:
    """The recipient of a check or message: the ledger's debtor, overridden by ``given``.

    :param given: any of ``time_zone``, ``country``, ``locale``, ``email``, ``phone``,
        ``whatsapp``; what it names wins over the ledger.
    :param settings: the tenant's notifications settings when the caller has read them.
    :raises ContactProblem: unknown debtor (``/debtor_id``), time zone (``/time_zone``) or
        malformed country (``/country``).
    """
    check_text(debtor_id, "/debtor_id")
    for key in _GIVEN:
        check_text(given.get(key), f"/{key}")
    profile = _ledger_profile(session, debtor_id) if debtor_id else None
    if settings is None:
        settings = settings_for(session)
    known: dict[str, Any] = {}
    if profile is not None:
        points = profile.get("contact_points") or []
        known = {
            "time_zone": profile.get("time_zone"),
            "country": profile.get("country"),
            "locale": profile.get("language"),
            "email": _first(points, "email"),
            "phone": _first(points, "phone"),
        }
    merged = {key: given.get(key) or known.get(key) for key in _GIVEN}
    time_zone = str(merged["time_zone"] or settings["default_time_zone"])
    _zone(time_zone, "/time_zone")
    country = merged["country"]
    if country is not None and (len(str(country)) != 2 or not str(country).isalpha()):
        raise fault("/country", f"{country!r} is not an ISO 3166-1 alpha-2 country code")
    return Recipient(
        debtor_id=debtor_id,
        time_zone=time_zone,
        country=str(country).upper() if country else None,
        locale=merged["locale"] or settings["default_locale"],
        email=merged["email"],
        phone=merged["phone"],
        whatsapp=merged["whatsapp"],
    )


def _holidays(
    session: Session, pack: RulePack, country: str | None
) -> Callable[[dt.date], str | None]:
    """A lookup of public holidays from the calendar module; never one without it."""
    where = pack.country or country
    if not pack.block_holidays or where is None:
        return lambda _day: None
    seen: dict[dt.date, str | None] = {}

    def holiday(day: dt.date) -> str | None:
        if day not in seen:
            try:
                answer = run_action(
                    session, "calendar.is_business_day", {"date": day.isoformat(), "country": where}
                )
            except (ActionUnavailableError, ActionInputError):
                answer = {}
            off = answer.get("reason") in ("holiday", "tenant_holiday")
            seen[day] = (answer.get("holiday") or answer.get("reason")) if off else None
        return seen[day]

    return holiday


def check_outcome(
    session: Session,
    tenant_id: str,
    recipient: Recipient,
    channel: str,
    now: dt.datetime,
    account_ids: Sequence[str] = (),
    *,
    pointer: str = "/channel",
    batch: ContactBatch | None = None,
) -> CheckOutcome:
    """:func:`check_contact` with the recipient, channel and rule pack it was made for.

    :param batch: the facts shared by a run of checks in this session (the send loop's);
        without one they are read for this check alone.
    """
    if channel not in known_channels(session):
        raise fault(pointer, f"unknown channel {channel!r}")
    for position, account_id in enumerate(account_ids):
        check_text(account_id, f"/account_ids/{position}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    zone = _zone(recipient.time_zone, "/time_zone")
    if batch is None:
        batch = ContactBatch(session, now)
    pack = batch.pack(recipient.country)
    profile = _ledger_profile(session, recipient.debtor_id) if recipient.debtor_id else None
    address = recipient.address(channel)
    # One read for both: the opt-out in force and the consent.
    opted, consented = batch.consent(
        debtor_id=recipient.debtor_id, address=address, channel=channel
    )
    disputed = False
    if profile is not None:
        for item in profile.get("consents") or []:
            if item.get("channel") == channel:
                consented = consented or bool(item.get("consent"))
                if item.get("opted_out") and opted is None:
                    opted = "ledger"
        disputed = bool(profile.get("disputed"))
    addresses = [a for a in (recipient.email, recipient.phone, recipient.whatsapp) if a]
    facts = Facts(
        now=now,
        zone=zone,
        channel=channel,
        account_ids=tuple(account_ids),
        opted_out=opted,
        consented=consented,
        disputed=disputed,
        attempts=batch.attempts(debtor_id=recipient.debtor_id, addresses=addresses, now=now),
        holiday=_holidays(session, pack, recipient.country),
    )
    return CheckOutcome(evaluate(pack, facts), recipient, channel, pack.id)


def check_contact(
    session: Session,
    tenant_id: str,
    recipient: Recipient,
    channel: str,
    now: dt.datetime,
    account_ids: Sequence[str] = (),
    *,
    batch: ContactBatch | None = None,
) -> ContactDecision:
    """May ``recipient`` be contacted on ``channel`` at ``now``: the answer, every reason and
    the next allowed time.

    :param batch: the facts shared by a run of checks in this session (see
        :class:`~.batch.ContactBatch`).
    :raises ContactProblem: unknown channel (``/channel``) or time zone, or no rule pack for
        the recipient's country.
    """
    return check_outcome(
        session, tenant_id, recipient, channel, now, account_ids, batch=batch
    ).decision


def record_attempt(
    session: Session,
    tenant_id: str,
    recipient: Recipient,
    channel: str,
    account_ids: Sequence[str],
    at: dt.datetime,
    *,
    conversation: bool = False,
) -> None:
    """Record a contact made (a conversation when the debtor was reached): feeds the caps.

    :raises ContactProblem: when the recipient has neither a debtor id nor an address for
        ``channel``.
    """
    address = recipient.address(channel)
    for position, account_id in enumerate(account_ids):
        check_text(account_id, f"/account_ids/{position}")
    if recipient.debtor_id is None and address is None:
        raise fault("/debtor_id", f"name a debtor_id or a {channel} address")
    add_attempt(
        session,
        debtor_id=recipient.debtor_id,
        address=address,
        channel=channel,
        account_ids=account_ids,
        at=at,
        conversation=conversation,
    )


def _outside_secret(tenant_id: str) -> str:
    """The tenant's secret read (or made) in a session of its own, for callers without one."""
    from almacen.gateway.state import current_gateway

    session = current_gateway().db.session(tenant_id=tenant_id)
    try:
        with session.begin():
            return tenant_secret(session)
    finally:
        session.close()


def unsubscribe_url(
    tenant_id: str,
    *,
    debtor_id: str | None,
    address: str,
    channel: str,
    base_url: str,
    session: Session | None = None,
    secret: str | None = None,
) -> str:
    """The signed RFC 8058 one-click link for ``List-Unsubscribe``.

    :param base_url: the public origin of the API (``https://api.example.com``); a base that
        already ends in ``/v1/notifications`` is accepted as well.
    :param session: a session open for ``tenant_id`` (the sender's); without one the secret
        is read in a short session of its own (inside an Almacén app).
    :param secret: the tenant's signing secret when the caller has read it (a batch's).
    """
    if secret is None:
        secret = tenant_secret(session) if session is not None else _outside_secret(tenant_id)
    token = make_token(secret, tenant_id, debtor_id=debtor_id, address=address, channel=channel)
    base = base_url.rstrip("/")
    path = unsubscribe_path(tenant_id, token)
    suffix = "/v1/notifications"
    if base.endswith(suffix):
        base = base[: -len(suffix)]
    return base + path


def _given(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: data.get(key) for key in _GIVEN if data.get(key) is not None}


def check_request(session: Session, tenant_id: str, data: Mapping[str, Any]) -> CheckOutcome:
    """A check as the API and the ``notifications.contact_check`` action ask for it.

    :param data: :class:`~.schemas.ContactCheckInputSchema`'s loaded input.
    """
    if session.info.get("tenant_id") != tenant_id:
        raise UnscopedQueryError(f"contact checks for {tenant_id} need that tenant's session")
    now = data.get("at") or dt.datetime.now(dt.UTC)
    batch = ContactBatch(session, now)
    recipient = resolve_recipient(
        session,
        tenant_id,
        debtor_id=data.get("debtor_id"),
        given=_given(data),
        settings=batch.settings,
    )
    return check_outcome(
        session,
        tenant_id,
        recipient,
        data["channel"],
        now,
        tuple(data.get("account_ids") or ()),
        batch=batch,
    )


def attempt_request(session: Session, tenant_id: str, data: Mapping[str, Any]) -> Recipient:
    """Record an attempt made outside Almacén (an agent's call, a letter) from API input."""
    recipient = resolve_recipient(
        session, tenant_id, debtor_id=data.get("debtor_id"), given=_given(data)
    )
    if data["channel"] not in known_channels(session):
        raise fault("/channel", f"unknown channel {data['channel']!r}")
    record_attempt(
        session,
        tenant_id,
        recipient,
        data["channel"],
        tuple(data.get("account_ids") or ()),
        data.get("at") or dt.datetime.now(dt.UTC),
        conversation=bool(data.get("conversation")),
    )
    return recipient


def require_debtor(session: Session, debtor_id: str | None) -> None:
    """Check that the ledger (when the tenant has it) knows ``debtor_id``.

    :raises ContactProblem: at ``/debtor_id`` when it does not.
    """
    if debtor_id is not None:
        _ledger_profile(session, debtor_id)
