"""Marshmallow schemas: the module's configuration, action inputs, and dumps of its answers.

The HTTP shapes are also written in ``openapi.yaml``; a unit test checks that the two agree.
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_dump,
    post_load,
    validate,
    validates_schema,
)

from .service import DEFAULT_COUNTRY, DEFAULT_WEEKEND, MAX_DAYS, is_supported_country, subdivisions

__all__ = [
    "AddBusinessDaysSchema",
    "BusinessDaySumSchema",
    "CalendarConfigSchema",
    "CheckBusinessDaySchema",
    "CustomHolidaySchema",
    "DayCheckSchema",
    "HolidayAddedSchema",
    "HolidayListSchema",
    "HolidaySchema",
]


def _supported_country(value: str) -> None:
    if not is_supported_country(value):
        raise ValidationError(
            f"{value!r} is not an ISO 3166-1 alpha-2 code with public holidays in this calendar."
        )


def _unique(values: list[int]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Weekend days must not repeat.")


def _country(**kwargs: Any) -> fields.String:
    return fields.String(validate=_supported_country, **kwargs)


class CalendarConfigSchema(Schema):
    """A tenant's configuration of the calendar module, checked when it subscribes.

    ``country`` (default ``CO``) is used when a request names none; ``subdivision`` adds a
    region's holidays for that country only; ``weekend`` lists ISO weekday numbers
    (1 = Monday … 7 = Sunday) that are never business days, at most six of them.
    """

    class Meta:
        unknown = RAISE

    country = _country(load_default=DEFAULT_COUNTRY)
    subdivision = fields.String(load_default=None, allow_none=True)
    weekend = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=7)),
        load_default=lambda: list(DEFAULT_WEEKEND),
        validate=[validate.Length(max=6), _unique],
    )

    @validates_schema
    def _check_subdivision(self, data: dict[str, Any], **_kwargs: Any) -> None:
        subdivision = data.get("subdivision")
        if subdivision is not None and subdivision not in subdivisions(data["country"]):
            known = ", ".join(subdivisions(data["country"])) or "none"
            raise ValidationError(
                f"{subdivision!r} is not a subdivision of {data['country']} (known: {known}).",
                field_name="subdivision",
            )

    @post_load
    def _sort_weekend(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data["weekend"] = sorted(data["weekend"])
        return data


class HolidaySchema(Schema):
    """A day off in a year's listing; only the tenant's own days carry an ``id``."""

    date = fields.Date()
    name = fields.String()
    source = fields.String()
    id = fields.String()

    @post_dump
    def _drop_missing_id(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if data.get("id") is None:
            data.pop("id", None)
        return data


class HolidayListSchema(Schema):
    """Every day off of one country in one year."""

    country = fields.String()
    year = fields.Integer()
    items = fields.List(fields.Nested(HolidaySchema))


class CustomHolidaySchema(Schema):
    """One of a tenant's own days off."""

    id = fields.String()
    date = fields.Date()
    name = fields.String()
    country = fields.String()
    created_at = fields.AwareDateTime()


class BusinessDaySumSchema(Schema):
    """The business day ``days`` business days from ``date``."""

    date = fields.Date()
    days = fields.Integer()
    country = fields.String()
    result = fields.Date()


class DayCheckSchema(Schema):
    """Whether a day is a business day; if not, why and which holiday."""

    date = fields.Date()
    country = fields.String()
    business_day = fields.Boolean()
    reason = fields.String(allow_none=True)
    holiday = fields.String(allow_none=True)


class AddBusinessDaysSchema(Schema):
    """Input of the ``calendar.add_business_days`` action."""

    date = fields.Date(required=True)
    days = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=-MAX_DAYS, max=MAX_DAYS)
    )
    country = _country(load_default=None)


class CheckBusinessDaySchema(Schema):
    """Input of the ``calendar.is_business_day`` action."""

    date = fields.Date(required=True)
    country = _country(load_default=None)


class HolidayAddedSchema(Schema):
    """Payload of the ``calendar.holiday_added`` event: the tenant's new day off."""

    id = fields.String(required=True)
    date = fields.Date(required=True)
    name = fields.String(required=True)
    country = fields.String(required=True)
