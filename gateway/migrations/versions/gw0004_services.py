"""Service blueprints: services, their versions, rule runs and experiment assignments.

Revision ID: gw0004
Revises: gw0003
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "gw0004"
down_revision: str | Sequence[str] | None = "gw0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
