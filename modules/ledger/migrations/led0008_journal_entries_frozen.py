"""Ledger: journal entries are never updated at all; an instalment's schedule never changes.

led0007 refused an entry's deletion and a change of its keys, but still let an ``UPDATE``
move its ``effective_on`` (which changes balances as of past dates), its ``kind``, what it
``reverses_id`` or its memo. No code updates an entry once written, so the database now
refuses every update of one, as it does for postings. An instalment may still be
deactivated (``active``: a plan replaced it), and nothing else of it may change: its number,
due date and scheduled amounts are what the account's history was built on.

Revision ID: led0008
Revises: led0007
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "led0008"
down_revision: str | Sequence[str] | None = "led0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JOURNAL = "the journal is append-only"
_INSTALMENTS = "instalments are deactivated, not removed"
_SCHEDULE = "id, account_id, tenant_id, number, due_on, principal, interest, fees"

_PG_UP = [
    "DROP TRIGGER ledger_journal_entries_append_only ON ledger_journal_entries",
    f"""
    CREATE TRIGGER ledger_journal_entries_append_only
    BEFORE DELETE OR UPDATE ON ledger_journal_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change('{_JOURNAL}')
    """,
    "DROP TRIGGER ledger_instalments_kept ON ledger_instalments",
    f"""
    CREATE TRIGGER ledger_instalments_kept
    BEFORE DELETE OR UPDATE OF {_SCHEDULE} ON ledger_instalments
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change('{_INSTALMENTS}')
    """,
]
_PG_DOWN = [
    "DROP TRIGGER ledger_journal_entries_append_only ON ledger_journal_entries",
    f"""
    CREATE TRIGGER ledger_journal_entries_append_only
    BEFORE DELETE OR UPDATE OF id, account_id, tenant_id ON ledger_journal_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change('{_JOURNAL}')
    """,
    "DROP TRIGGER ledger_instalments_kept ON ledger_instalments",
    f"""
    CREATE TRIGGER ledger_instalments_kept
    BEFORE DELETE OR UPDATE OF id, account_id, tenant_id ON ledger_instalments
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change('{_INSTALMENTS}')
    """,
]


def _sqlite_guard(name: str, event: str, table: str, reason: str) -> str:
    return (
        f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{event.split()[0]} on {table} refused: {reason}'); END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _PG_UP:
            op.execute(statement)
        return
    op.execute("DROP TRIGGER ledger_journal_entries_no_rekey")
    op.execute(
        _sqlite_guard(
            "ledger_journal_entries_no_update", "UPDATE", "ledger_journal_entries", _JOURNAL
        )
    )
    op.execute("DROP TRIGGER ledger_instalments_no_rekey")
    op.execute(
        _sqlite_guard(
            "ledger_instalments_no_reschedule",
            f"UPDATE OF {_SCHEDULE}",
            "ledger_instalments",
            _INSTALMENTS,
        )
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _PG_DOWN:
            op.execute(statement)
        return
    op.execute("DROP TRIGGER ledger_journal_entries_no_update")
    op.execute(
        _sqlite_guard(
            "ledger_journal_entries_no_rekey",
            "UPDATE OF id, account_id, tenant_id",
            "ledger_journal_entries",
            _JOURNAL,
        )
    )
    op.execute("DROP TRIGGER ledger_instalments_no_reschedule")
    op.execute(
        _sqlite_guard(
            "ledger_instalments_no_rekey",
            "UPDATE OF id, account_id, tenant_id",
            "ledger_instalments",
            _INSTALMENTS,
        )
    )
