"""Webhook endpoints, their deliveries and delivery attempts.

Revision ID: gw0003
Revises: gw0002
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "gw0003"
down_revision: str | Sequence[str] | None = "gw0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
