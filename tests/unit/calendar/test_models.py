"""The calendar's table: the migration creates exactly what the model declares."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from almacen import Base
from almacen.gateway import migrate
from almacen.gateway.app import gateway_of
from almacen_calendar.models import CustomHoliday


def test_migration_matches_the_model(app: Any) -> None:
    engine = gateway_of(app).db.engine
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": migrate.compare_type}
        )
        differences = compare_metadata(context, Base.metadata)
        columns = {c["name"] for c in inspect(connection).get_columns("calendar_holidays")}
    ours = [d for d in differences if "calendar_holidays" in repr(d)]
    assert ours == []
    assert columns == set(CustomHoliday.__table__.columns.keys())


def test_the_table_is_tenant_scoped() -> None:
    table = CustomHoliday.__table__
    assert {fk.target_fullname for fk in table.foreign_keys} == {"tenants.id"}
    unique = {
        c.name: [col.name for col in c.columns]
        for c in table.constraints
        if c.__class__.__name__ == "UniqueConstraint"
    }
    assert unique == {"uq_calendar_holidays_tenant_day": ["tenant_id", "country", "date"]}
