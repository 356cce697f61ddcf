"""Scoring: training data sets and jobs.

Revision ID: sco0002
Revises: sco0001
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "sco0002"
down_revision: str | Sequence[str] | None = "sco0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
