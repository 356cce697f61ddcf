"""Scoring: segment rule sets, assignments with history, monitoring runs.

Revision ID: sco0003
Revises: sco0002
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "sco0003"
down_revision: str | Sequence[str] | None = "sco0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
