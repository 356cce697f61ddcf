"""Calendar: each tenant's own days off (calendar_holidays).

Revision ID: cal0001
Revises:
Create Date: 2026-11-28 07:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cal0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("calendar",)
depends_on: str | Sequence[str] | None = "gw0001"


def upgrade() -> None:
    """Create ``calendar_holidays``."""
    op.create_table(
        "calendar_holidays",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_calendar_holidays_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_holidays")),
        sa.UniqueConstraint("tenant_id", "country", "date", name="uq_calendar_holidays_tenant_day"),
    )
    with op.batch_alter_table("calendar_holidays", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendar_holidays_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    """Drop ``calendar_holidays``."""
    with op.batch_alter_table("calendar_holidays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_holidays_tenant_id"))
    op.drop_table("calendar_holidays")
