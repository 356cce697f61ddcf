"""Offers: policies and offers.

Revision ID: off0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "off0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("offers",)
depends_on: str | Sequence[str] | None = "gw0001"


def upgrade() -> None:
    """Create the versioned offer policies."""
    op.create_table(
        "offers_policies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_offers_policies_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers_policies")),
        sa.UniqueConstraint("tenant_id", "version", name="uq_offers_policies_version"),
    )
    with op.batch_alter_table("offers_policies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offers_policies_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    """Drop the offer policies."""
    op.drop_table("offers_policies")
