"""Bots: who took a handover and how it was resolved.

Revision ID: bot0002
Revises: bot0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "bot0002"
down_revision: str | Sequence[str] | None = "bot0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the agent, the times and the resolution to the handover queue."""
    with op.batch_alter_table("bots_handovers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("taken_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolution", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("bots_handovers", schema=None) as batch_op:
        for column in ("resolved_at", "note", "resolution", "taken_at", "taken_by"):
            batch_op.drop_column(column)
