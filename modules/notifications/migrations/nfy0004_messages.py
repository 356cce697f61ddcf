"""Notifications: messages, receipts and inbound.

Revision ID: nfy0004
Revises: nfy0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision: str = "nfy0004"
down_revision: str | Sequence[str] | None = "nfy0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tenant(table: str) -> list[SchemaItem]:
    return [
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{table}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    """Create the messages, receipts and inbound tables."""
    op.create_table(
        "notifications_messages",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("debtor_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("recipient", sa.JSON(), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("account_ids", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("encoding", sa.String(length=16), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("on_blocked", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merge_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merge_key", sa.String(length=200), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.Column("provider_message_id", sa.String(length=255), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        *_tenant("notifications_messages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_messages")),
        sa.UniqueConstraint(
            "tenant_id",
            "idempotency_key",
            name=op.f("uq_notifications_messages_tenant_id"),
        ),
    )
    with op.batch_alter_table("notifications_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_messages_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_notifications_messages_debtor_id"), ["debtor_id"])
        batch_op.create_index(batch_op.f("ix_notifications_messages_merge_key"), ["merge_key"])
        batch_op.create_index(
            batch_op.f("ix_notifications_messages_provider_message_id"), ["provider_message_id"]
        )
        batch_op.create_index("ix_notifications_messages_due", ["status", "next_attempt_at"])
    op.create_table(
        "notifications_message_history",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        *_tenant("notifications_message_history"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["notifications_messages.id"],
            name=op.f("fk_notifications_message_history_message_id_notifications_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_message_history")),
    )
    with op.batch_alter_table("notifications_message_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_message_history_tenant_id"), ["tenant_id"]
        )
        batch_op.create_index(
            batch_op.f("ix_notifications_message_history_message_id"), ["message_id"]
        )
    op.create_table(
        "notifications_inbound",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("debtor_id", sa.String(length=64), nullable=True),
        sa.Column("in_reply_to", sa.String(length=32), nullable=True),
        sa.Column("provider_message_id", sa.String(length=255), nullable=True),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant("notifications_inbound"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_inbound")),
    )
    with op.batch_alter_table("notifications_inbound", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_inbound_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_notifications_inbound_sender"), ["sender"])


def downgrade() -> None:
    """Drop the messages, receipts and inbound tables."""
    op.drop_table("notifications_inbound")
    op.drop_table("notifications_message_history")
    op.drop_table("notifications_messages")
