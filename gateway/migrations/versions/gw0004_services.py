"""Service blueprints: services, their versions, rule runs and experiment assignments.

Revision ID: gw0004
Revises: gw0003
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "gw0004"
down_revision: str | Sequence[str] | None = "gw0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tenant(table: str) -> list[Any]:
    return [
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{table}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "services",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("active_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant("services"),
        sa.CheckConstraint("status IN ('active', 'inactive')", name=op.f("ck_services_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_services_tenant_id")),
    )
    op.create_table(
        "service_versions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant("service_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_versions")),
        sa.UniqueConstraint(
            "tenant_id", "service", "version", name=op.f("uq_service_versions_tenant_id")
        ),
    )
    op.create_table(
        "rule_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("subject_type", sa.String(length=50), nullable=True),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("service", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("arm", sa.String(length=63), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant("rule_runs"),
        sa.CheckConstraint(
            "outcome IN ('fired', 'skipped', 'failed')", name=op.f("ck_rule_runs_outcome")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_runs")),
        sa.UniqueConstraint(
            "tenant_id", "event_id", "service", "rule", name=op.f("uq_rule_runs_tenant_id")
        ),
    )
    op.create_table(
        "experiment_assignments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=63), nullable=False),
        sa.Column("experiment", sa.String(length=100), nullable=False),
        sa.Column("subject_type", sa.String(length=50), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("arm", sa.String(length=63), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant("experiment_assignments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_assignments")),
        sa.UniqueConstraint(
            "tenant_id",
            "service",
            "experiment",
            "subject_type",
            "subject_id",
            name=op.f("uq_experiment_assignments_tenant_id"),
        ),
    )
    for table in ("services", "service_versions", "rule_runs", "experiment_assignments"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_tenant_id"), ["tenant_id"], unique=False)
    with op.batch_alter_table("rule_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rule_runs_tenant_service_time",
            ["tenant_id", "service", "created_at", "id"],
            unique=False,
        )
    with op.batch_alter_table("experiment_assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_experiment_assignments_arm",
            ["tenant_id", "service", "experiment", "arm"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("experiment_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_experiment_assignments_arm")
    with op.batch_alter_table("rule_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_rule_runs_tenant_service_time")
    for table in ("experiment_assignments", "rule_runs", "service_versions", "services"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_tenant_id"))
        op.drop_table(table)
