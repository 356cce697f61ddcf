"""The score-job migration (sco0004) creates exactly what the score-job table declares."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from almacen import Base
from almacen.gateway import migrate
from almacen.gateway.app import gateway_of

OURS = ("scoring_score_jobs",)


def test_migration_matches_the_models(app: Any) -> None:
    engine = gateway_of(app).db.engine
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": migrate.compare_type}
        )
        differences = compare_metadata(context, Base.metadata)
        inspector = inspect(connection)
        for name in OURS:
            columns = {c["name"] for c in inspector.get_columns(name)}
            assert columns == set(Base.metadata.tables[name].columns.keys()), name
    assert [d for d in differences if any(name in repr(d) for name in OURS)] == []


def test_every_table_is_tenant_scoped() -> None:
    for name in OURS:
        table = Base.metadata.tables[name]
        assert "tenants.id" in {fk.target_fullname for fk in table.foreign_keys}, name
