"""The ledger's migration creates exactly what its models declare."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from almacen import Base
from almacen.gateway import migrate
from almacen.gateway.app import gateway_of


def _ledger_tables() -> list[Any]:
    return [t for t in Base.metadata.sorted_tables if t.name.startswith("ledger_")]


def test_migration_matches_the_models(app: Any) -> None:
    engine = gateway_of(app).db.engine
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": migrate.compare_type}
        )
        differences = compare_metadata(context, Base.metadata)
        inspector = inspect(connection)
        for table in _ledger_tables():
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == set(table.columns.keys()), table.name
    ours = [d for d in differences if "ledger_" in repr(d)]
    assert ours == []
    assert len(_ledger_tables()) >= 10


def test_the_revision_is_on_the_ledger_branch(app: Any) -> None:
    gateway = gateway_of(app)
    config = migrate.alembic_config(gateway.db.engine, gateway.registry.modules.values())
    script = ScriptDirectory.from_config(config).get_revision("led0001")
    assert script is not None
    assert script.branch_labels == {"ledger"}
    assert script.down_revision is None
    assert script.dependencies == "gw0001"


def test_every_table_is_tenant_scoped() -> None:
    for table in _ledger_tables():
        assert "tenant_id" in table.columns, table.name
        targets = {fk.target_fullname for fk in table.foreign_keys}
        assert "tenants.id" in targets, table.name
