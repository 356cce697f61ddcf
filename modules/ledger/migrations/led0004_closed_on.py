"""Ledger: the day an account was settled or charged off, for queries as of a past date.

Revision ID: led0004
Revises: led0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "led0004"
down_revision: str | Sequence[str] | None = "led0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_accounts") as batch:
        batch.add_column(sa.Column("closed_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_accounts") as batch:
        batch.drop_column("closed_on")
