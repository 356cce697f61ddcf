"""Almacén calendar: business days and public holidays per country, and tenants' days off.

An example third-party plugin. It adds the ``calendar`` module (its OpenAPI spec, table and
migration), the actions ``calendar.add_business_days`` and ``calendar.is_business_day``, and
the event type ``calendar.holiday_added``.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files

from almacen import Action, EventType, Module, hookimpl

from . import actions, schemas


@hookimpl
def almacen_register_module() -> Module:
    """Register the ``calendar`` module, mounted at ``/v1/calendar``."""
    try:
        release = version("almacen-calendar")
    except PackageNotFoundError:  # pragma: no cover - imported from a bare checkout
        release = "0.0.0"
    package = files(__name__)
    return Module(
        name="calendar",
        version=release,
        title="Business days and holidays",
        description=(
            "Public holidays per country (from the holidays library), each tenant's own days "
            "off, and business-day arithmetic over both."
        ),
        spec=package / "openapi.yaml",
        api=f"{__name__}.api",
        config_schema=schemas.CalendarConfigSchema,
        migrations=package / "migrations",
        models=f"{__name__}.models",
    )


@hookimpl
def almacen_register_actions() -> Iterable[Action]:
    """Register the calendar's business-day actions."""
    return [
        Action(
            name="calendar.add_business_days",
            input_schema=schemas.AddBusinessDaysSchema,
            output_schema=schemas.BusinessDaySumSchema,
            handler=actions.add_business_days,
            description="Add (or subtract) business days to a date, for the tenant's calendar.",
        ),
        Action(
            name="calendar.is_business_day",
            input_schema=schemas.CheckBusinessDaySchema,
            output_schema=schemas.DayCheckSchema,
            handler=actions.is_business_day,
            description="Whether a date is a business day for the tenant, and if not, why.",
        ),
    ]


@hookimpl
def almacen_register_events() -> Iterable[EventType]:
    """Register the event the calendar emits when a tenant adds a day off."""
    from .events import HOLIDAY_ADDED

    return [HOLIDAY_ADDED]
