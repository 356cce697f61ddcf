"""The calendar's table: each tenant's own days off, per country."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from almacen import Base, TenantScoped
from almacen.gateway.db import UTCDateTime, new_id, utcnow

__all__ = ["CustomHoliday"]


class CustomHoliday(TenantScoped, Base):
    """A day off of one tenant in one country, on top of that country's public holidays.

    A tenant has at most one day off per country and date.
    """

    __tablename__ = "calendar_holidays"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    #: ISO 3166-1 alpha-2 code of the country whose calendar the day belongs to.
    country: Mapped[str] = mapped_column(String(2))
    date: Mapped[dt.date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant_id", "country", "date", name="uq_calendar_holidays_tenant_day"),
    )
