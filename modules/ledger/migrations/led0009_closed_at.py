"""Ledger: the moment an account was settled, so that reversing its closing payment can undo
exactly what closing it wrote (see ``plans.reopen``).

Revision ID: led0009
Revises: led0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "led0009"
down_revision: str | Sequence[str] | None = "led0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_accounts") as batch:
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_accounts") as batch:
        batch.drop_column("closed_at")
