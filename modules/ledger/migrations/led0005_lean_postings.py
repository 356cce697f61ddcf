"""Ledger: fewer checks per posting and instalment written (issue 5, import speed).

An import writes 37 postings and 12 instalments per account, and each index and foreign key
costs every one of those rows an index insert or a lookup (measured: the four foreign keys
of ``ledger_postings`` were three quarters of its insert time). So:

- the ``tenant_id`` indexes of postings and instalments go: every query reaches postings by
  account (``ix_ledger_postings_account``), entry or instalment, and instalments by account
  or by ``ix_ledger_instalments_due``, which starts with ``tenant_id``;
- a posting's two keys ``entry_id`` → entries and ``account_id`` → accounts become one,
  ``(entry_id, account_id)`` → entries ``(id, account_id)``: one check instead of two, and a
  stronger rule (a posting's account is its entry's, which exists by the entry's own key).

Revision ID: led0005
Revises: led0004
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "led0005"
down_revision: str | Sequence[str] | None = "led0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_journal_entries") as batch:
        batch.create_unique_constraint("uq_ledger_journal_entries_account", ["id", "account_id"])
    with op.batch_alter_table("ledger_postings") as batch:
        batch.drop_index(batch.f("ix_ledger_postings_tenant_id"))
        batch.drop_constraint(
            batch.f("fk_ledger_postings_account_id_ledger_accounts"), type_="foreignkey"
        )
        batch.drop_constraint(
            batch.f("fk_ledger_postings_entry_id_ledger_journal_entries"), type_="foreignkey"
        )
        batch.create_foreign_key(
            "fk_ledger_postings_entry",
            "ledger_journal_entries",
            ["entry_id", "account_id"],
            ["id", "account_id"],
            ondelete="RESTRICT",
        )
    with op.batch_alter_table("ledger_instalments") as batch:
        batch.drop_index(batch.f("ix_ledger_instalments_tenant_id"))


def downgrade() -> None:
    with op.batch_alter_table("ledger_instalments") as batch:
        batch.create_index(batch.f("ix_ledger_instalments_tenant_id"), ["tenant_id"], unique=False)
    with op.batch_alter_table("ledger_postings") as batch:
        batch.drop_constraint("fk_ledger_postings_entry", type_="foreignkey")
        batch.create_foreign_key(
            batch.f("fk_ledger_postings_entry_id_ledger_journal_entries"),
            "ledger_journal_entries",
            ["entry_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch.create_foreign_key(
            batch.f("fk_ledger_postings_account_id_ledger_accounts"),
            "ledger_accounts",
            ["account_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch.create_index(batch.f("ix_ledger_postings_tenant_id"), ["tenant_id"], unique=False)
    with op.batch_alter_table("ledger_journal_entries") as batch:
        batch.drop_constraint("uq_ledger_journal_entries_account", type_="unique")
