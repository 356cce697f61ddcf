"""Bots: conversations, turns, the handover queue, template overrides, training and models.

Revision ID: bot0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "bot0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("bots",)
depends_on: str | Sequence[str] | None = "gw0001"


def _tenant(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{table}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in ("tenant_id", *columns):
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    """Create the bots module's tables."""
    op.create_table(
        "bots_conversations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("debtor_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("turn_count", sa.Integer(), nullable=False),
        sa.Column("identity_failures", sa.Integer(), nullable=False),
        sa.Column("slots", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        *_tenant("bots_conversations"),
    )
    _indexes("bots_conversations", "account_id", "address", "state")
    op.create_table(
        "bots_turns",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=True),
        sa.Column("user_text", sa.Text(), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("state_before", sa.String(length=32), nullable=False),
        sa.Column("state_after", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["bots_conversations.id"],
            name=op.f("fk_bots_turns_conversation_id_bots_conversations"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("conversation_id", "message_id", name="uq_bots_turns_message"),
        *_tenant("bots_turns"),
    )
    _indexes("bots_turns", "conversation_id")
    op.create_table(
        "bots_handovers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["bots_conversations.id"],
            name=op.f("fk_bots_handovers_conversation_id_bots_conversations"),
            ondelete="CASCADE",
        ),
        *_tenant("bots_handovers"),
    )
    _indexes("bots_handovers", "conversation_id", "status")
    op.create_table(
        "bots_templates",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "locale", "key", name="uq_bots_templates_key"),
        *_tenant("bots_templates"),
    )
    _indexes("bots_templates")
    op.create_table(
        "bots_training_examples",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant("bots_training_examples"),
    )
    _indexes("bots_training_examples", "intent")
    op.create_table(
        "bots_models",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "version", name="uq_bots_models_version"),
        *_tenant("bots_models"),
    )
    _indexes("bots_models")


def downgrade() -> None:
    """Drop the bots module's tables."""
    for table in (
        "bots_models",
        "bots_training_examples",
        "bots_templates",
        "bots_handovers",
        "bots_turns",
        "bots_conversations",
    ):
        op.drop_table(table)
