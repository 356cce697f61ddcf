"""Migration nfy0003 creates exactly what the template and channel tables declare."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from almacen import Base
from almacen.gateway import migrate
from almacen.gateway.app import gateway_of

TABLES = ("notifications_templates", "notifications_channel_credentials")


def test_migration_matches_the_models(app: Any) -> None:
    engine = gateway_of(app).db.engine
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": migrate.compare_type}
        )
        differences = compare_metadata(context, Base.metadata)
        inspector = inspect(connection)
        for name in TABLES:
            columns = {c["name"] for c in inspector.get_columns(name)}
            assert columns == set(Base.metadata.tables[name].columns.keys()), name
    assert [d for d in differences if any(name in repr(d) for name in TABLES)] == []
