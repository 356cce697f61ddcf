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
        context = MigrationContext.configure(connection, opts=migrate.COMPARE_OPTIONS)
        differences = compare_metadata(context, Base.metadata)
        inspector = inspect(connection)
        for table in _ledger_tables():
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == set(table.columns.keys()), table.name
    ours = [d for d in differences if "ledger_" in repr(d)]
    assert ours == []
    assert len(_ledger_tables()) >= 10


def test_only_the_postings_keys_are_left_to_a_trigger() -> None:
    """The keys migration led0007 turns into a statement trigger on PostgreSQL are the ones
    the schema comparison leaves out, and no others."""
    compared = {
        constraint.name: migrate.include_object(
            constraint, constraint.name, "foreign_key_constraint", False, None
        )
        for table in Base.metadata.tables.values()
        for constraint in table.foreign_key_constraints
    }
    assert {name for name, included in compared.items() if not included} == {
        "fk_ledger_postings_entry",
        "fk_ledger_postings_instalment_id_ledger_instalments",
    }


def test_the_revision_is_on_the_ledger_branch(app: Any) -> None:
    gateway = gateway_of(app)
    config = migrate.alembic_config(gateway.db.engine, gateway.registry.modules.values())
    script = ScriptDirectory.from_config(config).get_revision("led0001")
    assert script is not None
    assert script.branch_labels == {"ledger"}
    assert script.down_revision is None
    assert script.dependencies == "gw0001"


def test_every_table_is_tenant_scoped() -> None:
    """Each row's tenant is checked: against ``tenants``, or through a composite key to a
    parent row of the same tenant (whose own tenant is checked the same way)."""
    for table in _ledger_tables():
        assert "tenant_id" in table.columns, table.name
        tenant_keys = [
            constraint
            for constraint in table.foreign_key_constraints
            if "tenant_id" in constraint.column_keys
        ]
        assert tenant_keys, table.name
        for constraint in tenant_keys:
            position = constraint.column_keys.index("tenant_id")
            target = constraint.elements[position].target_fullname
            assert target == "tenants.id" or target.endswith(".tenant_id"), (table.name, target)


def test_a_row_cannot_hang_under_another_tenants_account(app: Any) -> None:
    """The composite keys of led0006: an instalment naming tenant B's account from tenant A
    is refused by the database itself, not only by the session's scoping."""
    import datetime as dt
    from decimal import Decimal

    import pytest
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from almacen.gateway.tenancy.service import create_tenant
    from almacen.modules.ledger.models import Account, Debtor, Instalment

    db = gateway_of(app).db
    with db.transaction() as session:
        first = create_tenant(session, slug="wall-a", name="A").id
        second = create_tenant(session, slug="wall-b", name="B").id
    with db.transaction(tenant_id=second) as session:
        debtor = Debtor(external_ref="D-1", name="B's debtor")
        session.add(debtor)
        session.flush()
        account = Account(
            debtor_id=debtor.id,
            external_ref="A-1",
            product_type="loan",
            currency="COP",
            originated_on=dt.date(2026, 1, 1),
            principal=Decimal("100"),
        )
        session.add(account)
        session.flush()
        account_id = account.id
    with pytest.raises(IntegrityError), db.transaction(tenant_id=first) as session:
        session.execute(
            insert(Instalment).values(
                tenant_id=first,
                account_id=account_id,
                number=1,
                due_on=dt.date(2026, 2, 1),
                principal=Decimal("100"),
            )
        )
