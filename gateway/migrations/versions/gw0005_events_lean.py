"""Events: no index of ``tenant_id`` alone; the three that start with it serve its queries.

Every event written (one per payment, one per imported account) paid for four indexes that
begin with ``tenant_id``; the one of ``tenant_id`` alone is never the best of them.

Revision ID: gw0005
Revises: gw0004
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "gw0005"
down_revision: str | Sequence[str] | None = "gw0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_index(batch.f("ix_events_tenant_id"))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.create_index(batch.f("ix_events_tenant_id"), ["tenant_id"], unique=False)
