"""Scoring: model versions and score records.

Revision ID: sco0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "sco0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("scoring",)
depends_on: str | Sequence[str] | None = "gw0001"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
