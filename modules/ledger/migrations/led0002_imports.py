"""Ledger: portfolio import jobs (progress and per-row error report).

Revision ID: led0002
Revises: led0001
Create Date: 2026-11-28 08:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "led0002"
down_revision: str | Sequence[str] | None = "led0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``ledger_import_jobs``."""
    op.create_table(
        "ledger_import_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_validated", sa.Integer(), nullable=False),
        sa.Column("rows_imported", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')",
            name=op.f("ck_ledger_import_jobs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ledger_import_jobs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_import_jobs")),
    )
    with op.batch_alter_table("ledger_import_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_import_jobs_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    """Drop ``ledger_import_jobs``."""
    with op.batch_alter_table("ledger_import_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_import_jobs_tenant_id"))
    op.drop_table("ledger_import_jobs")
