"""Ledger: payment plans and settlements, and disputes.

Revision ID: led0003
Revises: led0002
Create Date: 2026-11-28 08:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "led0003"
down_revision: str | Sequence[str] | None = "led0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _owned(table: str) -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f(f"fk_{table}_account_id_ledger_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{table}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    """Create ``ledger_plans`` and ``ledger_disputes``."""
    op.create_table(
        "ledger_plans",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint("kind IN ('plan', 'settlement')", name=op.f("ck_ledger_plans_kind")),
        sa.CheckConstraint(
            "status IN ('active', 'completed', 'broken', 'cancelled')",
            name=op.f("ck_ledger_plans_status"),
        ),
        *_owned("ledger_plans"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_plans")),
    )
    with op.batch_alter_table("ledger_plans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_plans_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_plans_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_ledger_plans_status", ["tenant_id", "status"], unique=False)

    op.create_table(
        "ledger_disputes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("write_off_entry_id", sa.String(length=32), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'upheld', 'rejected')", name=op.f("ck_ledger_disputes_status")
        ),
        *_owned("ledger_disputes"),
        sa.ForeignKeyConstraint(
            ["write_off_entry_id"],
            ["ledger_journal_entries.id"],
            name=op.f("fk_ledger_disputes_write_off_entry_id_ledger_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_disputes")),
    )
    with op.batch_alter_table("ledger_disputes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_disputes_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_disputes_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    """Drop ``ledger_disputes`` and ``ledger_plans``."""
    with op.batch_alter_table("ledger_disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_disputes_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_disputes_account_id"))
    op.drop_table("ledger_disputes")
    with op.batch_alter_table("ledger_plans", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_plans_status")
        batch_op.drop_index(batch_op.f("ix_ledger_plans_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_plans_account_id"))
    op.drop_table("ledger_plans")
