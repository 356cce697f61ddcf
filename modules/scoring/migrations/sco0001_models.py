"""Scoring: model versions and score records.

Revision ID: sco0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sco0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("scoring",)
depends_on: str | Sequence[str] | None = "gw0001"


def upgrade() -> None:
    """Create the model registry and the score records."""
    op.create_table(
        "scoring_models",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_scoring_models_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_models")),
        sa.UniqueConstraint("tenant_id", "name", "version", name="uq_scoring_models_name_version"),
    )
    with op.batch_alter_table("scoring_models", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scoring_models_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            "ix_scoring_models_purpose_status", ["tenant_id", "purpose", "status"], unique=False
        )

    op.create_table(
        "scoring_score_records",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=32), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=True),
        sa.Column("subject_id", sa.String(length=100), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("bins", sa.JSON(), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["scoring_models.id"],
            name=op.f("fk_scoring_score_records_model_id_scoring_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_scoring_score_records_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_score_records")),
    )
    with op.batch_alter_table("scoring_score_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scoring_score_records_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            "ix_scoring_score_records_model_scored",
            ["tenant_id", "model_id", "scored_at"],
            unique=False,
        )


def downgrade() -> None:
    """Drop the score records and the model registry."""
    op.drop_table("scoring_score_records")
    op.drop_table("scoring_models")
