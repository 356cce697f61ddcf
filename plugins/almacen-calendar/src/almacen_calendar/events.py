"""The calendar's event type, and its emitter (called in the transaction that adds the day)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from almacen import EventType, emit

from .models import CustomHoliday
from .schemas import HolidayAddedSchema

__all__ = ["HOLIDAY_ADDED", "holiday_added"]

HOLIDAY_ADDED = EventType(
    name="calendar.holiday_added",
    schema=HolidayAddedSchema,
    description="A tenant added one of its own days off.",
)


def holiday_added(session: Session, holiday: CustomHoliday) -> None:
    """``calendar.holiday_added``, about the new day off."""
    emit(
        session,
        HOLIDAY_ADDED,
        {"id": holiday.id, "date": holiday.date, "name": holiday.name, "country": holiday.country},
        subject=("holiday", holiday.id),
    )
