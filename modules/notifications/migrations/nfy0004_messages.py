"""Notifications: messages, receipts and inbound.

Revision ID: nfy0004
Revises: nfy0003
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "nfy0004"
down_revision: str | Sequence[str] | None = "nfy0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the messages, receipts and inbound tables."""


def downgrade() -> None:
    """Drop the messages, receipts and inbound tables."""
