"""Notifications: templates and channel credentials.

Revision ID: nfy0003
Revises: nfy0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "nfy0003"
down_revision: str | Sequence[str] | None = "nfy0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the templates and channel credentials tables."""
    op.create_table(
        "notifications_templates",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("sample_data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_notifications_templates_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_templates")),
        sa.UniqueConstraint(
            "tenant_id", "name", "channel", "locale", "version", name="uq_notifications_templates"
        ),
    )
    with op.batch_alter_table("notifications_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_templates_tenant_id"), ["tenant_id"], unique=False
        )
    op.create_table(
        "notifications_channel_credentials",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("credentials", sa.JSON(), nullable=False),
        sa.Column("receipt_secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_notifications_channel_credentials_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_channel_credentials")),
        sa.UniqueConstraint("tenant_id", "channel", name="uq_notifications_channel_credentials"),
    )
    with op.batch_alter_table("notifications_channel_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_channel_credentials_tenant_id"),
            ["tenant_id"],
            unique=False,
        )


def downgrade() -> None:
    """Drop the templates and channel credentials tables."""
    op.drop_table("notifications_channel_credentials")
    op.drop_table("notifications_templates")
