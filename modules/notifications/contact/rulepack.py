"""Jurisdiction rule packs (data files in ``rulepacks/``) and the tenant's stricter overrides.

A rule pack says when a debtor may be contacted (a window of local hours per weekday, public
holidays), which frequency caps apply over rolling windows of local calendar days, how long
calls pause after a conversation, and whether consent is required and disputes block. Each
rule cites its legal source; a ``null`` source marks a conservative Almacén default that the
law of that jurisdiction does not impose.

A tenant's overrides may only make a pack stricter where the law speaks (narrower hours, days
closed, holidays blocked, consent required, more caps). A rule whose source is ``null`` may be
relaxed, because no law is being waived. A refused override names every fault with its JSON
pointer (``/overrides/hours/sun``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

import yaml
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from almacen.gateway.errors import NotFoundError, UnprocessableError, marshmallow_errors

__all__ = [
    "AUTO",
    "DAYS",
    "Cap",
    "Quiet",
    "RulePack",
    "Window",
    "apply_overrides",
    "load_overrides",
    "pack_for_country",
    "rule_pack",
    "rule_packs",
]

#: The weekdays as rule packs name them, Monday first (``date.weekday()`` order).
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The policy value that picks the pack of the recipient's country.
AUTO = "auto"
#: Who a frequency cap counts: per debt (account), per channel, or per recipient.
PER = ("debt", "channel", "recipient")
TENANT = "tenant"


@dataclasses.dataclass(frozen=True)
class Window:
    """Contact allowed from ``start`` (inclusive) to ``end`` (exclusive), local wall time."""

    start: dt.time
    end: dt.time
    source: str | None


@dataclasses.dataclass(frozen=True)
class Cap:
    """At most ``max`` contacts in ``window_days`` consecutive local days (see :data:`PER`).

    ``channels`` None means every channel.
    """

    id: str
    channels: frozenset[str] | None
    per: str
    max: int
    window_days: int
    source: str | None

    def applies_to(self, channel: str) -> bool:
        """Whether a contact on ``channel`` is limited by this cap."""
        return self.channels is None or channel in self.channels


@dataclasses.dataclass(frozen=True)
class Quiet:
    """No contact on ``channels`` for ``days`` local days from a conversation's day (its first)."""

    id: str
    channels: frozenset[str] | None
    per: str
    days: int
    source: str | None

    def applies_to(self, channel: str) -> bool:
        """Whether a contact on ``channel`` must respect this pause."""
        return self.channels is None or channel in self.channels


@dataclasses.dataclass(frozen=True)
class RulePack:
    """A jurisdiction's contact rules, possibly tightened by a tenant."""

    id: str
    title: str
    country: str | None
    #: Weekday (0 = Monday) → its window, or None when the day is closed.
    hours: Mapping[int, Window | None]
    #: Source of a closed day (the pack's hours source, or ``tenant``), per weekday.
    closed_sources: Mapping[int, str | None]
    block_holidays: bool
    holidays_source: str | None
    require_consent: bool
    consent_source: str | None
    opt_out_source: str | None
    block_disputes: bool
    disputes_source: str | None
    caps: tuple[Cap, ...]
    quiet: tuple[Quiet, ...]
    #: The pack's document as loaded, for the API (before overrides).
    document: Mapping[str, Any]


# -- the pack files ----------------------------------------------------------------------------


class _WindowSchema(Schema):
    start = fields.Time(required=True, format="%H:%M")
    end = fields.Time(required=True, format="%H:%M")

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["start"] >= data["end"]:
            raise ValidationError("start must be before end", field_name="end")


class _DaysSchema(Schema):
    mon = fields.Nested(_WindowSchema, allow_none=True)
    tue = fields.Nested(_WindowSchema, allow_none=True)
    wed = fields.Nested(_WindowSchema, allow_none=True)
    thu = fields.Nested(_WindowSchema, allow_none=True)
    fri = fields.Nested(_WindowSchema, allow_none=True)
    sat = fields.Nested(_WindowSchema, allow_none=True)
    sun = fields.Nested(_WindowSchema, allow_none=True)


def _channels() -> Any:
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=32)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1),
    )


class _CapSchema(Schema):
    id = fields.String(load_default=None, validate=validate.Length(min=1, max=60))
    channels = _channels()
    per = fields.String(required=True, validate=validate.OneOf(PER))
    max = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))
    window_days = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=366)
    )
    source = fields.String(load_default=None, allow_none=True)


class _QuietSchema(Schema):
    id = fields.String(required=True)
    channels = _channels()
    per = fields.String(required=True, validate=validate.OneOf(PER))
    days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=366))
    source = fields.String(load_default=None, allow_none=True)


class _SourcedFlag(Schema):
    source = fields.String(load_default=None, allow_none=True)


class _HoursSchema(_SourcedFlag):
    days = fields.Nested(_DaysSchema, required=True)


class _BlockSchema(_SourcedFlag):
    block = fields.Boolean(required=True)


class _RequiredSchema(_SourcedFlag):
    required = fields.Boolean(required=True)


class _PackSchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    country = fields.String(load_default=None, allow_none=True)
    hours = fields.Nested(_HoursSchema, required=True)
    holidays = fields.Nested(_BlockSchema, required=True)
    consent = fields.Nested(_RequiredSchema, required=True)
    opt_out = fields.Nested(_SourcedFlag, required=True)
    disputes = fields.Nested(_BlockSchema, required=True)
    caps = fields.List(fields.Nested(_CapSchema), load_default=list)
    after_conversation = fields.List(fields.Nested(_QuietSchema), load_default=list)


def _frozen(channels: list[str] | None) -> frozenset[str] | None:
    return None if channels is None else frozenset(channels)


def _build(document: Mapping[str, Any]) -> RulePack:
    loaded = _PackSchema().load(document)
    source = loaded["hours"]["source"]
    days = loaded["hours"]["days"]
    hours: dict[int, Window | None] = {}
    for number, name in enumerate(DAYS):
        window = days.get(name)
        hours[number] = None if window is None else Window(window["start"], window["end"], source)
    return RulePack(
        id=loaded["id"],
        title=loaded["title"],
        country=loaded["country"],
        hours=hours,
        closed_sources={number: source for number in range(7)},
        block_holidays=loaded["holidays"]["block"],
        holidays_source=loaded["holidays"]["source"],
        require_consent=loaded["consent"]["required"],
        consent_source=loaded["consent"]["source"],
        opt_out_source=loaded["opt_out"]["source"],
        block_disputes=loaded["disputes"]["block"],
        disputes_source=loaded["disputes"]["source"],
        caps=tuple(
            Cap(
                id=cap["id"] or f"cap_{position}",
                channels=_frozen(cap["channels"]),
                per=cap["per"],
                max=cap["max"],
                window_days=cap["window_days"],
                source=cap["source"],
            )
            for position, cap in enumerate(loaded["caps"])
        ),
        quiet=tuple(
            Quiet(
                id=item["id"],
                channels=_frozen(item["channels"]),
                per=item["per"],
                days=item["days"],
                source=item["source"],
            )
            for item in loaded["after_conversation"]
        ),
        document=dict(document),
    )


@cache
def rule_packs() -> Mapping[str, RulePack]:
    """Every built-in rule pack by id, read once from the package's data files."""
    folder = files(__package__) / "rulepacks"
    packs: dict[str, RulePack] = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".yaml"):
            pack = _build(yaml.safe_load(entry.read_text(encoding="utf-8")))
            packs[pack.id] = pack
    return packs


def rule_pack(pack_id: str, *, pointer: str | None = None) -> RulePack:
    """The built-in pack ``pack_id``.

    :param pointer: where the id came from in a request body; a 422 names it, else a 404.
    :raises UnprocessableError: (with ``pointer``) or :class:`NotFoundError` when unknown.
    """
    pack = rule_packs().get(pack_id)
    if pack is not None:
        return pack
    detail = f"unknown rule pack {pack_id!r}; known: {', '.join(sorted(rule_packs()))}"
    if pointer is None:
        raise NotFoundError(detail)
    raise UnprocessableError(detail, errors=[{"pointer": pointer, "detail": detail}])


def pack_for_country(country: str | None) -> RulePack | None:
    """The built-in pack of ``country`` (ISO 3166-1 alpha-2), if there is one."""
    if country is None:
        return None
    for pack in rule_packs().values():
        if pack.country == country.upper():
            return pack
    return None


# -- the tenant's overrides --------------------------------------------------------------------


class _OverrideCapSchema(Schema):
    """A cap the tenant adds (caps only ever add restrictions)."""

    id = fields.String(load_default=None, validate=validate.Length(min=1, max=60))
    channels = _channels()
    per = fields.String(required=True, validate=validate.OneOf(PER))
    max = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))
    window_days = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=366)
    )


class OverridesSchema(Schema):
    """The tenant's overrides of its rule pack; every key optional, unknown keys refused."""

    hours = fields.Nested(_DaysSchema, load_default=None)
    block_holidays = fields.Boolean(load_default=None, allow_none=True)
    require_consent = fields.Boolean(load_default=None, allow_none=True)
    block_disputes = fields.Boolean(load_default=None, allow_none=True)
    caps = fields.List(fields.Nested(_OverrideCapSchema), load_default=list)


def load_overrides(document: Mapping[str, Any], *, pointer: str = "/overrides") -> dict[str, Any]:
    """Validate an overrides document; the normalised JSON form to store.

    :raises UnprocessableError: listing every fault with its pointer.
    """
    try:
        loaded = OverridesSchema().load(document)
    except ValidationError as exc:
        raise UnprocessableError(
            "the contact policy's overrides are invalid",
            errors=marshmallow_errors(exc.messages, pointer),
        ) from None
    stored: dict[str, Any] = {"caps": [], "hours": None}
    if loaded["hours"] is not None:
        stored["hours"] = {
            name: None
            if window is None
            else {
                "start": window["start"].strftime("%H:%M"),
                "end": window["end"].strftime("%H:%M"),
            }
            for name, window in loaded["hours"].items()
        }
    for flag in ("block_holidays", "require_consent", "block_disputes"):
        if loaded[flag] is not None:
            stored[flag] = loaded[flag]
    stored["caps"] = [
        {
            "id": cap["id"] or f"tenant_cap_{position}",
            "channels": cap["channels"],
            "per": cap["per"],
            "max": cap["max"],
            "window_days": cap["window_days"],
        }
        for position, cap in enumerate(loaded["caps"])
    ]
    return stored


def _time(text: str) -> dt.time:
    return dt.datetime.strptime(text, "%H:%M").time()


def apply_overrides(
    pack: RulePack, overrides: Mapping[str, Any], *, pointer: str = "/overrides"
) -> RulePack:
    """``pack`` tightened by stored ``overrides`` (see :func:`load_overrides`).

    :raises UnprocessableError: when an override would relax a rule the law imposes, with the
        pointer of every such override.
    """
    faults: list[dict[str, str]] = []
    hours = dict(pack.hours)
    closed = dict(pack.closed_sources)
    for name, window in (overrides.get("hours") or {}).items():
        number = DAYS.index(name)
        legal = pack.hours[number]
        where = f"{pointer}/hours/{name}"
        if window is None:
            hours[number] = None
            closed[number] = TENANT if legal is not None else pack.closed_sources[number]
            continue
        start, end = _time(window["start"]), _time(window["end"])
        if legal is None:
            if pack.closed_sources[number] is not None:
                faults.append(
                    {"pointer": where, "detail": f"{pack.id} allows no contact on {name}"}
                )
                continue
        elif (start < legal.start or end > legal.end) and legal.source is not None:
            faults.append(
                {
                    "pointer": where,
                    "detail": f"wider than {pack.id} allows on {name} "
                    f"({legal.start:%H:%M}-{legal.end:%H:%M}): overrides may only be stricter",
                }
            )
            continue
        hours[number] = Window(start, end, TENANT)
    flags = {
        "block_holidays": (pack.block_holidays, pack.holidays_source),
        "require_consent": (pack.require_consent, pack.consent_source),
        "block_disputes": (pack.block_disputes, pack.disputes_source),
    }
    chosen: dict[str, tuple[bool, str | None]] = {}
    for flag, (value, source) in flags.items():
        wanted = overrides.get(flag)
        if wanted is None or wanted == value:
            chosen[flag] = (value, source)
        elif wanted:
            chosen[flag] = (True, TENANT)
        elif source is not None:
            faults.append(
                {
                    "pointer": f"{pointer}/{flag}",
                    "detail": f"{pack.id} requires it ({source}): overrides may only be stricter",
                }
            )
            chosen[flag] = (value, source)
        else:
            chosen[flag] = (False, None)
    if faults:
        raise UnprocessableError(
            "the contact policy's overrides would relax the rule pack", errors=faults
        )
    caps = pack.caps + tuple(
        Cap(
            id=cap["id"],
            channels=_frozen(cap["channels"]),
            per=cap["per"],
            max=cap["max"],
            window_days=cap["window_days"],
            source=TENANT,
        )
        for cap in overrides.get("caps") or ()
    )
    return dataclasses.replace(
        pack,
        hours=hours,
        closed_sources=closed,
        block_holidays=chosen["block_holidays"][0],
        holidays_source=chosen["block_holidays"][1],
        require_consent=chosen["require_consent"][0],
        consent_source=chosen["require_consent"][1],
        block_disputes=chosen["block_disputes"][0],
        disputes_source=chosen["block_disputes"][1],
        caps=caps,
    )
