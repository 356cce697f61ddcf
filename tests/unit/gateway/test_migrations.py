"""Migrations create exactly what the models declare: the gateway's and every module's."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from almacen import Base
from almacen.gateway import migrate
from almacen.gateway.app import gateway_of


def test_migrated_database_matches_every_model(app: Any) -> None:
    """After ``almacen db upgrade`` (the ``migrated`` fixture) autogenerate finds nothing."""
    engine = gateway_of(app).db.engine
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=migrate.COMPARE_OPTIONS)
        differences = compare_metadata(context, Base.metadata)
    # Test plugins may declare tables without migrations; everything installed must match.
    assert [d for d in differences if "test_" not in repr(d)] == []
