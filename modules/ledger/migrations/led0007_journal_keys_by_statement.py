"""Ledger: on PostgreSQL, postings' keys are checked once per statement; the journal is
append-only in the database itself.

A foreign key is checked row by row: a query per posting to its entry and another to its
instalment, 61 queries for an imported account's 37 postings, half the database's time in an
import. On PostgreSQL the two keys of ``ledger_postings`` become one statement-level trigger
that checks every new posting of an ``INSERT`` or ``COPY`` with two anti-joins against
``ledger_journal_entries`` and ``ledger_instalments`` (the transition table of the
statement), raising ``foreign_key_violation`` with the old constraints' names.

A foreign key also stops a parent from going while children point to it. Here nothing may
go: postings are never updated or deleted, entries never deleted nor re-keyed, instalments
never deleted nor re-keyed (a plan deactivates them). Row triggers enforce that on both
backends; the journal's append-only rule, so far kept by the code alone, is now the
database's. On SQLite the foreign keys stay (its imports are small).

Measured on imports (PostgreSQL): 20,000 rows 13.5 s before, 10.7 s after; 100,000 rows
73.3 s before, 52.2 s after.

Revision ID: led0007
Revises: led0006
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "led0007"
down_revision: str | Sequence[str] | None = "led0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The keys of ``ledger_postings`` a statement trigger checks on PostgreSQL.
ENTRY_KEY = "fk_ledger_postings_entry"
INSTALMENT_KEY = "fk_ledger_postings_instalment_id_ledger_instalments"

_PG_UP = [
    f"ALTER TABLE ledger_postings DROP CONSTRAINT {ENTRY_KEY}",
    f"ALTER TABLE ledger_postings DROP CONSTRAINT {INSTALMENT_KEY}",
    """
    CREATE FUNCTION ledger_postings_keys() RETURNS trigger LANGUAGE plpgsql
    -- One index probe per new posting, like a foreign key's check but without a query
    -- each: never a scan of the whole journal. A hash or merge join would read it all, and
    -- a plan cached while the tables were small would keep scanning them once they grew.
    SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off
    AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM new_postings AS p
            WHERE NOT EXISTS (
                SELECT 1 FROM ledger_journal_entries AS e
                WHERE e.id = p.entry_id AND e.account_id = p.account_id
                  AND e.tenant_id = p.tenant_id
            )
        ) THEN
            RAISE EXCEPTION 'insert on ledger_postings violates %', 'fk_ledger_postings_entry'
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'fk_ledger_postings_entry',
                      DETAIL = 'A posting''s (entry_id, account_id, tenant_id) is not an entry''s.';
        END IF;
        IF EXISTS (
            SELECT 1 FROM new_postings AS p
            WHERE p.instalment_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM ledger_instalments AS i WHERE i.id = p.instalment_id
            )
        ) THEN
            RAISE EXCEPTION 'insert on ledger_postings violates %',
                'fk_ledger_postings_instalment_id_ledger_instalments'
                USING ERRCODE = 'foreign_key_violation',
                      CONSTRAINT = 'fk_ledger_postings_instalment_id_ledger_instalments',
                      DETAIL = 'A posting''s instalment_id is no instalment.';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER ledger_postings_keys AFTER INSERT ON ledger_postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_keys()
    """,
    """
    CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% on % refused: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0]
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change('the journal is append-only')
    """,
    """
    CREATE TRIGGER ledger_journal_entries_append_only
    BEFORE DELETE OR UPDATE OF id, account_id, tenant_id ON ledger_journal_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change('the journal is append-only')
    """,
    """
    CREATE TRIGGER ledger_instalments_kept
    BEFORE DELETE OR UPDATE OF id, account_id, tenant_id ON ledger_instalments
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change('instalments are deactivated, not removed')
    """,
]

_PG_DOWN = [
    "DROP TRIGGER ledger_instalments_kept ON ledger_instalments",
    "DROP TRIGGER ledger_journal_entries_append_only ON ledger_journal_entries",
    "DROP TRIGGER ledger_postings_append_only ON ledger_postings",
    "DROP FUNCTION ledger_refuse_change()",
    "DROP TRIGGER ledger_postings_keys ON ledger_postings",
    "DROP FUNCTION ledger_postings_keys()",
    f"""
    ALTER TABLE ledger_postings ADD CONSTRAINT {INSTALMENT_KEY} FOREIGN KEY (instalment_id)
    REFERENCES ledger_instalments (id) ON DELETE RESTRICT
    """,
    f"""
    ALTER TABLE ledger_postings ADD CONSTRAINT {ENTRY_KEY}
    FOREIGN KEY (entry_id, account_id, tenant_id)
    REFERENCES ledger_journal_entries (id, account_id, tenant_id) ON DELETE RESTRICT
    """,
]


def _sqlite_guard(name: str, event: str, table: str, reason: str) -> str:
    return (
        f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{event.split()[0]} on {table} refused: {reason}'); END"
    )


_SQLITE_UP = [
    _sqlite_guard(
        "ledger_postings_no_update", "UPDATE", "ledger_postings", "the journal is append-only"
    ),
    _sqlite_guard(
        "ledger_postings_no_delete", "DELETE", "ledger_postings", "the journal is append-only"
    ),
    _sqlite_guard(
        "ledger_journal_entries_no_delete",
        "DELETE",
        "ledger_journal_entries",
        "the journal is append-only",
    ),
    _sqlite_guard(
        "ledger_journal_entries_no_rekey",
        "UPDATE OF id, account_id, tenant_id",
        "ledger_journal_entries",
        "the journal is append-only",
    ),
    _sqlite_guard(
        "ledger_instalments_no_delete",
        "DELETE",
        "ledger_instalments",
        "instalments are deactivated, not removed",
    ),
    _sqlite_guard(
        "ledger_instalments_no_rekey",
        "UPDATE OF id, account_id, tenant_id",
        "ledger_instalments",
        "instalments are deactivated, not removed",
    ),
]


def upgrade() -> None:
    statements = _PG_UP if op.get_bind().dialect.name == "postgresql" else _SQLITE_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _PG_DOWN:
            op.execute(statement)
        return
    for statement in _SQLITE_UP:
        op.execute(f"DROP TRIGGER {statement.split()[2]}")
