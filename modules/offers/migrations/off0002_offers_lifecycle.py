"""Offers: stored offers and their history (lifecycle, negotiation, acceptance).

Revision ID: off0002
Revises: off0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "off0002"
down_revision: str | Sequence[str] | None = "off0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the stored offers and their history of transitions."""
    op.create_table(
        "offers_offers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("requires_approval", sa.Boolean(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=True),
        sa.Column("counter", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("ledger_plan_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_offers_offers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers_offers")),
    )
    with op.batch_alter_table("offers_offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_offers_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_offers_offers_account_id"), ["account_id"])
        batch_op.create_index(batch_op.f("ix_offers_offers_status"), ["status"])
        batch_op.create_index(batch_op.f("ix_offers_offers_expires_on"), ["expires_on"])
    op.create_table(
        "offers_history",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("offer_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offers_offers.id"],
            name=op.f("fk_offers_history_offer_id_offers_offers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_offers_history_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers_history")),
    )
    with op.batch_alter_table("offers_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_history_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_offers_history_offer_id"), ["offer_id"])


def downgrade() -> None:
    """Drop the history, then the offers."""
    op.drop_table("offers_history")
    op.drop_table("offers_offers")
