"""Notifications: templates and channel credentials.

Revision ID: nfy0003
Revises: nfy0002
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "nfy0003"
down_revision: str | Sequence[str] | None = "nfy0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the templates and channel credentials tables."""


def downgrade() -> None:
    """Drop the templates and channel credentials tables."""
