"""Notifications: the module's branch (tables follow in later revisions).

Revision ID: nfy0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "nfy0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("notifications",)
depends_on: str | Sequence[str] | None = "gw0001"


def upgrade() -> None:
    """Nothing yet: the branch's root."""


def downgrade() -> None:
    """Nothing to undo."""
