"""Scoring: score jobs (batches of up to 100,000 records scored in the background).

Revision ID: sco0004
Revises: sco0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sco0004"
down_revision: str | Sequence[str] | None = "sco0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``scoring_score_jobs``."""
    op.create_table(
        "scoring_score_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.Column("record", sa.Boolean(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("request", sa.LargeBinary(), nullable=False),
        sa.Column("results", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')",
            name=op.f("ck_scoring_score_jobs_status"),
        ),
        sa.CheckConstraint(
            "progress BETWEEN 0 AND 100", name=op.f("ck_scoring_score_jobs_progress")
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["scoring_models.id"],
            name=op.f("fk_scoring_score_jobs_model_id_scoring_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_scoring_score_jobs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_score_jobs")),
    )
    with op.batch_alter_table("scoring_score_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scoring_score_jobs_model_id"), ["model_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_scoring_score_jobs_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    """Drop ``scoring_score_jobs``."""
    with op.batch_alter_table("scoring_score_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scoring_score_jobs_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_scoring_score_jobs_model_id"))
    op.drop_table("scoring_score_jobs")
