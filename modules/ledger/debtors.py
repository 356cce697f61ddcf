"""Debtors: who owes, how to reach them, and which channels they allow.

Phone numbers are parsed with ``phonenumbers`` and stored in E.164; national numbers need a
default region (ISO 3166-1 alpha-2). E-mail addresses are checked with ``email-validator``
(syntax only: no DNS lookups in a request) and stored normalised. Faults are reported with a
JSON pointer into the request body (``/contact_points/1/value``).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from almacen.gateway.db import utcnow
from almacen.gateway.errors import ConflictError, NotFoundError, UnprocessableError
from almacen.gateway.pagination import DEFAULT_LIMIT, Page, paginate

from .models import ChannelConsent, ContactPoint, Debtor

__all__ = [
    "CHANNELS",
    "check_language",
    "check_time_zone",
    "create_debtor",
    "get_debtor",
    "is_time_zone",
    "list_debtors",
    "normalise_email",
    "normalise_phone",
    "update_debtor",
]

#: Channels a debtor may prefer, consent to or opt out of.
CHANNELS = ("sms", "whatsapp", "email", "voice", "letter")
# BCP 47, loosely: a language subtag, then script/region/variant subtags (RFC 5646 §2.1).
_LANGUAGE_TAG = re.compile(
    r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-[A-Za-z0-9]{5,8})*$"
)


def _fault(pointer: str, detail: str) -> UnprocessableError:
    return UnprocessableError(
        f"{pointer}: {detail}", errors=[{"pointer": pointer, "detail": detail}]
    )


def normalise_phone(value: str, *, region: str | None, pointer: str) -> str:
    """``value`` in E.164, parsed with ``region`` for national numbers.

    :raises UnprocessableError: when the number cannot be parsed or is not a valid number.
    """
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise _fault(pointer, f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise _fault(pointer, "not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str, *, pointer: str) -> str:
    """``value`` normalised (domain lower-cased, Unicode NFC), syntax checked only.

    :raises UnprocessableError: when the address is not valid.
    """
    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise _fault(pointer, str(exc)) from None


def _check_region(region: str | None) -> None:
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        raise _fault("/default_region", f"unknown region {region!r}")


def check_language(language: str, *, pointer: str = "/language") -> None:
    """:raises UnprocessableError: when ``language`` is not a BCP 47 language tag."""
    if not _LANGUAGE_TAG.match(language):
        raise _fault(pointer, f"{language!r} is not a BCP 47 language tag")


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone (of the zone database this process has)."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def check_time_zone(name: str, *, pointer: str = "/time_zone") -> None:
    """:raises UnprocessableError: when ``name`` is not an IANA time zone."""
    if not is_time_zone(name):
        raise _fault(pointer, f"{name!r} is not an IANA time zone")


def _contact_points(
    items: Sequence[Mapping[str, Any]], *, region: str | None
) -> list[ContactPoint]:
    points: list[ContactPoint] = []
    seen: set[tuple[str, str]] = set()
    for position, item in enumerate(items):
        pointer = f"/contact_points/{position}/value"
        kind = item["kind"]
        if kind == "phone":
            value = normalise_phone(item["value"], region=region, pointer=pointer)
        else:
            value = normalise_email(item["value"], pointer=pointer)
        if (kind, value) in seen:
            raise _fault(pointer, f"duplicate {kind} {value}")
        seen.add((kind, value))
        points.append(
            ContactPoint(kind=kind, value=value, label=item.get("label"), position=position)
        )
    return points


def _consents(items: Sequence[Mapping[str, Any]]) -> list[ChannelConsent]:
    channels = [item["channel"] for item in items]
    for position, channel in enumerate(channels):
        if channels.index(channel) != position:
            raise _fault(f"/consents/{position}/channel", f"duplicate channel {channel}")
    # Sorted as the relationship loads them, so a new debtor reads as it will be read back.
    return [
        ChannelConsent(
            channel=item["channel"],
            consent=bool(item.get("consent", False)),
            opted_out=bool(item.get("opted_out", False)),
        )
        for item in sorted(items, key=lambda item: str(item["channel"]))
    ]


def create_debtor(session: Session, data: Mapping[str, Any]) -> Debtor:
    """Create a debtor from validated request data.

    :param data: ``external_ref``, ``name`` and optionally ``contact_points``,
        ``default_region``, ``preferred_channel``, ``language``, ``time_zone``, ``consents``.
    :raises UnprocessableError: for an invalid phone, e-mail, language or time zone.
    :raises ConflictError: when the tenant already has a debtor with ``external_ref``.
    """
    region = data.get("default_region")
    _check_region(region)
    language = data.get("language", "es")
    check_language(language)
    time_zone = data.get("time_zone", "UTC")
    check_time_zone(time_zone)
    debtor = Debtor(
        external_ref=data["external_ref"],
        name=data["name"],
        preferred_channel=data.get("preferred_channel"),
        language=language,
        time_zone=time_zone,
    )
    debtor.contact_points = _contact_points(data.get("contact_points", []), region=region)
    debtor.consents = _consents(data.get("consents", []))
    _require_unique_ref(session, data["external_ref"])
    try:
        with session.begin_nested():
            session.add(debtor)
            session.flush()
    except IntegrityError:
        # A concurrent request took the reference between our check and our insert.
        raise _duplicate(data["external_ref"]) from None
    return debtor


def _duplicate(external_ref: str) -> ConflictError:
    return ConflictError(
        f"a debtor with external_ref {external_ref!r} already exists",
        errors=[{"pointer": "/external_ref", "detail": "already in use"}],
    )


def _require_unique_ref(session: Session, external_ref: str) -> None:
    taken = session.scalar(select(Debtor.id).where(Debtor.external_ref == external_ref))
    if taken is not None:
        raise _duplicate(external_ref)


def get_debtor(session: Session, debtor_id: str) -> Debtor:
    """One of the tenant's debtors. :raises NotFoundError: when there is none of that id."""
    debtor = session.scalar(select(Debtor).where(Debtor.id == debtor_id))
    if debtor is None:
        raise NotFoundError(f"no debtor {debtor_id}")
    return debtor


def list_debtors(
    session: Session,
    *,
    external_ref: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Debtor]:
    """A page of the tenant's debtors, oldest first, optionally by ``external_ref``."""
    statement = select(Debtor)
    if external_ref is not None:
        statement = statement.where(Debtor.external_ref == external_ref)
    return paginate(
        session, statement, keys=(Debtor.created_at, Debtor.id), limit=limit, cursor=cursor
    )


def update_debtor(session: Session, debtor_id: str, changes: Mapping[str, Any]) -> Debtor:
    """Change some of a debtor's fields; lists given replace the stored ones entirely.

    :raises NotFoundError: when there is no such debtor.
    :raises UnprocessableError: as :func:`create_debtor`.
    :raises ConflictError: when ``external_ref`` is changed to one in use.
    """
    debtor = get_debtor(session, debtor_id)
    region = changes.get("default_region")
    _check_region(region)
    if "language" in changes:
        check_language(changes["language"])
    if "time_zone" in changes:
        check_time_zone(changes["time_zone"])
    if "external_ref" in changes and changes["external_ref"] != debtor.external_ref:
        _require_unique_ref(session, changes["external_ref"])
    for field in ("external_ref", "name", "preferred_channel", "language", "time_zone"):
        if field in changes:
            setattr(debtor, field, changes[field])
    if "contact_points" in changes:
        points = _contact_points(changes["contact_points"], region=region)
        # Delete first: the new list may hold the same values under the unique constraint.
        debtor.contact_points = []
        session.flush()
        debtor.contact_points = points
    if "consents" in changes:
        consents = _consents(changes["consents"])
        debtor.consents = []
        session.flush()
        debtor.consents = consents
    debtor.updated_at = utcnow()
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise _duplicate(changes.get("external_ref", debtor.external_ref)) from None
    return debtor
