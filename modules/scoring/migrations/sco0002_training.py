"""Scoring: training data sets and jobs.

Revision ID: sco0002
Revises: sco0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sco0002"
down_revision: str | Sequence[str] | None = "sco0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``scoring_training_datasets`` and ``scoring_training_jobs``."""
    op.create_table(
        "scoring_training_datasets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=200), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "format IN ('csv', 'jsonl')", name=op.f("ck_scoring_training_datasets_format")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_scoring_training_datasets_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_training_datasets")),
    )
    with op.batch_alter_table("scoring_training_datasets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scoring_training_datasets_tenant_id"), ["tenant_id"], unique=False
        )
    op.create_table(
        "scoring_training_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.Column("model_id", sa.String(length=32), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')",
            name=op.f("ck_scoring_training_jobs_status"),
        ),
        sa.CheckConstraint(
            "progress BETWEEN 0 AND 100", name=op.f("ck_scoring_training_jobs_progress")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["scoring_training_datasets.id"],
            name=op.f("fk_scoring_training_jobs_dataset_id_scoring_training_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_scoring_training_jobs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_training_jobs")),
    )
    with op.batch_alter_table("scoring_training_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scoring_training_jobs_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_scoring_training_jobs_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    """Drop ``scoring_training_jobs`` and ``scoring_training_datasets``."""
    with op.batch_alter_table("scoring_training_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scoring_training_jobs_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_scoring_training_jobs_dataset_id"))
    op.drop_table("scoring_training_jobs")
    with op.batch_alter_table("scoring_training_datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scoring_training_datasets_tenant_id"))
    op.drop_table("scoring_training_datasets")
