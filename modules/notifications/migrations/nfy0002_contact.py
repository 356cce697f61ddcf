"""Notifications: contact policy, consent and attempts.

Revision ID: nfy0002
Revises: nfy0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "nfy0002"
down_revision: str | Sequence[str] | None = "nfy0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = (
    "notifications_contact_policies",
    "notifications_contact_consents",
    "notifications_contact_attempts",
    "notifications_unsubscribe_keys",
)


def _tenant(table: str) -> tuple[sa.Column[str], sa.ForeignKeyConstraint]:
    return (
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{table}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
    )


def _index_tenant(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_tenant_id"), ["tenant_id"], unique=False)


def upgrade() -> None:
    """Create the contact policy, consent and attempts tables."""
    table = "notifications_contact_policies"
    op.create_table(
        table,
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("rule_pack", sa.String(length=40), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant(table),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("tenant_id", name="uq_notifications_contact_policies"),
    )
    _index_tenant(table)

    table = "notifications_contact_consents"
    op.create_table(
        table,
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subject_kind", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=320), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant(table),
        sa.CheckConstraint(
            "subject_kind IN ('debtor', 'address')", name=op.f(f"ck_{table}_subject_kind")
        ),
        sa.CheckConstraint("status IN ('opted_out', 'consented')", name=op.f(f"ck_{table}_status")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(
            "tenant_id",
            "subject_kind",
            "subject",
            "channel",
            name="uq_notifications_contact_consents_subject",
        ),
    )
    _index_tenant(table)

    table = "notifications_contact_attempts"
    op.create_table(
        table,
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subject_kind", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=320), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("conversation", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        *_tenant(table),
        sa.CheckConstraint(
            "subject_kind IN ('debtor', 'address')", name=op.f(f"ck_{table}_subject_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    _index_tenant(table)
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_contact_attempts_subject",
            ["tenant_id", "subject", "at"],
            unique=False,
        )

    table = "notifications_unsubscribe_keys"
    op.create_table(
        table,
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant(table),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("tenant_id", name="uq_notifications_unsubscribe_keys"),
    )
    _index_tenant(table)


def downgrade() -> None:
    """Drop the contact policy, consent and attempts tables."""
    for table in reversed(_TABLES):
        op.drop_table(table)
