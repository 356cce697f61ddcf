"""The contact tables' migration (nfy0002) creates exactly what their models declare."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from almacen import Base
from almacen.gateway import migrate
from almacen.gateway.app import gateway_of

OURS = (
    "notifications_contact_policies",
    "notifications_contact_consents",
    "notifications_contact_attempts",
    "notifications_unsubscribe_keys",
)


def test_the_migration_matches_the_models(app: Any) -> None:
    engine = gateway_of(app).db.engine
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": migrate.compare_type}
        )
        differences = compare_metadata(context, Base.metadata)
        inspector = inspect(connection)
        for name in OURS:
            table = Base.metadata.tables[name]
            columns = {c["name"] for c in inspector.get_columns(name)}
            assert columns == set(table.columns.keys()), name
    assert [d for d in differences if any(name in repr(d) for name in OURS)] == []


def test_every_contact_table_is_tenant_scoped() -> None:
    for name in OURS:
        table = Base.metadata.tables[name]
        assert "tenants.id" in {fk.target_fullname for fk in table.foreign_keys}, name
