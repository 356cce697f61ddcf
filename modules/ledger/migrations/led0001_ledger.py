"""Ledger: debtors, contact points, consents, accounts, instalments, the journal, payments,
promises and aging snapshots.

Revision ID: led0001
Revises:
Create Date: 2026-11-28 07:29:06.549055
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "led0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("ledger",)
depends_on: str | Sequence[str] | None = "gw0001"


def upgrade() -> None:
    """Create the ledger's tables."""
    op.create_table(
        "ledger_debtors",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("external_ref", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("preferred_channel", sa.String(length=16), nullable=True),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ledger_debtors_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_debtors")),
        sa.UniqueConstraint("tenant_id", "external_ref", name="uq_ledger_debtors_external_ref"),
    )
    with op.batch_alter_table("ledger_debtors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_debtors_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("debtor_id", sa.String(length=32), nullable=False),
        sa.Column("external_ref", sa.String(length=100), nullable=False),
        sa.Column("product_type", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("originated_on", sa.Date(), nullable=False),
        sa.Column("principal", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("annual_rate", sa.Numeric(precision=12, scale=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=20), nullable=False),
        sa.Column("aged_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'settled', 'charged_off', 'closed')",
            name=op.f("ck_ledger_accounts_status"),
        ),
        sa.CheckConstraint("principal > 0", name=op.f("ck_ledger_accounts_principal_positive")),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["ledger_debtors.id"],
            name=op.f("fk_ledger_accounts_debtor_id_ledger_debtors"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ledger_accounts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint("tenant_id", "external_ref", name="uq_ledger_accounts_external_ref"),
    )
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_accounts_bucket", ["tenant_id", "bucket"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ledger_accounts_debtor_id"), ["debtor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_accounts_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "ledger_channel_consents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("debtor_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["ledger_debtors.id"],
            name=op.f("fk_ledger_channel_consents_debtor_id_ledger_debtors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ledger_channel_consents_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_channel_consents")),
        sa.UniqueConstraint("debtor_id", "channel", name="uq_ledger_channel_consents_channel"),
    )
    with op.batch_alter_table("ledger_channel_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_channel_consents_debtor_id"), ["debtor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_channel_consents_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "ledger_contact_points",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("debtor_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=320), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "kind IN ('phone', 'email')", name=op.f("ck_ledger_contact_points_kind")
        ),
        sa.ForeignKeyConstraint(
            ["debtor_id"],
            ["ledger_debtors.id"],
            name=op.f("fk_ledger_contact_points_debtor_id_ledger_debtors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ledger_contact_points_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_contact_points")),
        sa.UniqueConstraint("debtor_id", "kind", "value", name="uq_ledger_contact_points_value"),
    )
    with op.batch_alter_table("ledger_contact_points", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_contact_points_debtor_id"), ["debtor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_contact_points_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "ledger_aging_snapshots",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=20), nullable=False),
        sa.Column("balance", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_aging_snapshots_account_id_ledger_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ledger_aging_snapshots_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_aging_snapshots")),
        sa.UniqueConstraint("account_id", "as_of", name="uq_ledger_aging_snapshots_day"),
    )
    with op.batch_alter_table("ledger_aging_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_aging_snapshots_as_of", ["tenant_id", "as_of"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_aging_snapshots_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "ledger_instalments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("principal", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("interest", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("fees", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_instalments_account_id_ledger_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ledger_instalments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_instalments")),
        sa.UniqueConstraint("account_id", "number", name="uq_ledger_instalments_number"),
    )
    with op.batch_alter_table("ledger_instalments", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_instalments_due", ["tenant_id", "due_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ledger_instalments_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "ledger_journal_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.Column("reverses_id", sa.String(length=32), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "kind IN ('charge', 'interest', 'fee', 'penalty', 'payment', 'adjustment', "
            "'discount', 'write_off', 'reversal')",
            name=op.f("ck_ledger_journal_entries_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_journal_entries_account_id_ledger_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["ledger_journal_entries.id"],
            name=op.f("fk_ledger_journal_entries_reverses_id_ledger_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ledger_journal_entries_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_journal_entries")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_ledger_journal_entries_reverses_id")),
    )
    with op.batch_alter_table("ledger_journal_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_journal_entries_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_journal_entries_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "ledger_promises",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paid", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'kept', 'partially_kept', 'broken', 'cancelled')",
            name=op.f("ck_ledger_promises_status"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_promises_amount_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_promises_account_id_ledger_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ledger_promises_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_promises")),
    )
    with op.batch_alter_table("ledger_promises", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_promises_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_promises_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "ledger_payments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("reversal_entry_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_payments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_payments_account_id_ledger_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_journal_entries.id"],
            name=op.f("fk_ledger_payments_entry_id_ledger_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["reversal_entry_id"],
            ["ledger_journal_entries.id"],
            name=op.f("fk_ledger_payments_reversal_entry_id_ledger_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ledger_payments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_payments")),
        sa.UniqueConstraint("tenant_id", "external_id", name="uq_ledger_payments_external_id"),
    )
    with op.batch_alter_table("ledger_payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_payments_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_payments_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("instalment_id", sa.String(length=32), nullable=True),
        sa.Column("book", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_postings_account_id_ledger_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_journal_entries.id"],
            name=op.f("fk_ledger_postings_entry_id_ledger_journal_entries"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["instalment_id"],
            ["ledger_instalments.id"],
            name=op.f("fk_ledger_postings_instalment_id_ledger_instalments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ledger_postings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
    )
    with op.batch_alter_table("ledger_postings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_postings_account", ["account_id", "book", "effective_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_postings_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index("ix_ledger_postings_instalment", ["instalment_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ledger_postings_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    """Drop the ledger's tables."""
    with op.batch_alter_table("ledger_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_postings_tenant_id"))
        batch_op.drop_index("ix_ledger_postings_instalment")
        batch_op.drop_index(batch_op.f("ix_ledger_postings_entry_id"))
        batch_op.drop_index("ix_ledger_postings_account")

    op.drop_table("ledger_postings")
    with op.batch_alter_table("ledger_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_payments_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_payments_account_id"))

    op.drop_table("ledger_payments")
    with op.batch_alter_table("ledger_promises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_promises_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_promises_account_id"))

    op.drop_table("ledger_promises")
    with op.batch_alter_table("ledger_journal_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_journal_entries_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_journal_entries_account_id"))

    op.drop_table("ledger_journal_entries")
    with op.batch_alter_table("ledger_instalments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_instalments_tenant_id"))
        batch_op.drop_index("ix_ledger_instalments_due")

    op.drop_table("ledger_instalments")
    with op.batch_alter_table("ledger_aging_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_aging_snapshots_tenant_id"))
        batch_op.drop_index("ix_ledger_aging_snapshots_as_of")

    op.drop_table("ledger_aging_snapshots")
    with op.batch_alter_table("ledger_contact_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_contact_points_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_contact_points_debtor_id"))

    op.drop_table("ledger_contact_points")
    with op.batch_alter_table("ledger_channel_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_channel_consents_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_channel_consents_debtor_id"))

    op.drop_table("ledger_channel_consents")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_accounts_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_accounts_debtor_id"))
        batch_op.drop_index("ix_ledger_accounts_bucket")

    op.drop_table("ledger_accounts")
    with op.batch_alter_table("ledger_debtors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_debtors_tenant_id"))

    op.drop_table("ledger_debtors")
