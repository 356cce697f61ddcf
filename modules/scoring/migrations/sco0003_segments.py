"""Scoring: segment rule sets, assignments with history, monitoring runs.

Revision ID: sco0003
Revises: sco0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sco0003"
down_revision: str | Sequence[str] | None = "sco0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tenant(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    """Create the segment rule sets, segment assignments and monitoring runs."""
    op.create_table(
        "scoring_segment_rule_sets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("default_segment", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        _tenant("scoring_segment_rule_sets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_segment_rule_sets")),
        sa.UniqueConstraint("tenant_id", "version", name="uq_scoring_segment_rule_sets_version"),
    )
    with op.batch_alter_table("scoring_segment_rule_sets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scoring_segment_rule_sets_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "scoring_segment_assignments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.String(length=100), nullable=False),
        sa.Column("treatments", sa.JSON(), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("balance", sa.Numeric(precision=20, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("rule_set_version", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        _tenant("scoring_segment_assignments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_segment_assignments")),
    )
    with op.batch_alter_table("scoring_segment_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scoring_segment_assignments_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            "ix_scoring_segment_assignments_account",
            ["tenant_id", "account_id", "assigned_at"],
            unique=False,
        )
        batch_op.create_index(
            "uq_scoring_segment_assignments_current",
            ["tenant_id", "account_id"],
            unique=True,
            postgresql_where=sa.text("ended_at IS NULL"),
            sqlite_where=sa.text("ended_at IS NULL"),
        )

    op.create_table(
        "scoring_monitoring_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=32), nullable=False),
        sa.Column("window_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("baseline", sa.String(length=16), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("psi", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("drifted", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        _tenant("scoring_monitoring_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_monitoring_runs")),
    )
    with op.batch_alter_table("scoring_monitoring_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scoring_monitoring_runs_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            "ix_scoring_monitoring_runs_model",
            ["tenant_id", "model_id", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    """Drop the monitoring runs, segment assignments and segment rule sets."""
    with op.batch_alter_table("scoring_monitoring_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_scoring_monitoring_runs_model")
        batch_op.drop_index(batch_op.f("ix_scoring_monitoring_runs_tenant_id"))
    op.drop_table("scoring_monitoring_runs")
    with op.batch_alter_table("scoring_segment_assignments", schema=None) as batch_op:
        batch_op.drop_index("uq_scoring_segment_assignments_current")
        batch_op.drop_index("ix_scoring_segment_assignments_account")
        batch_op.drop_index(batch_op.f("ix_scoring_segment_assignments_tenant_id"))
    op.drop_table("scoring_segment_assignments")
    with op.batch_alter_table("scoring_segment_rule_sets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scoring_segment_rule_sets_tenant_id"))
    op.drop_table("scoring_segment_rule_sets")
