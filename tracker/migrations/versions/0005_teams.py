"""Teams: accounts, login sessions, the audit trail, row versions, retraction, merged sources.

Adds `account`, `login_session` and `audit_event`; a `version` column (optimistic locking) on
source, claim and report (existing rows start at 1); `retracted_at`/`retracted_by`/
`retraction_reason` on claim and report (nothing is deleted any more, only retracted); and
`source.merged_into_id` (a merged source stays, pointing at the source that took it over).
Existing data is untouched. Columns are added with ALTER TABLE ADD COLUMN (no table rebuild),
which SQLite and PostgreSQL both do in place.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _version() -> sa.Column:
    return sa.Column("version", sa.Integer(), nullable=False, server_default="1")


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("disabled_at", sa.DateTime()),
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime()),
        _version(),
    )
    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime()),
    )
    op.create_index("ix_login_session_account_id", "login_session", ["account_id"])
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id")),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.Integer()),
        sa.Column("claim_id", sa.Integer()),
        sa.Column("source_id", sa.Integer()),
        sa.Column("claim_version", sa.Integer()),
        sa.Column("before", sa.Text()),
        sa.Column("after", sa.Text()),
        sa.Column("reason", sa.Text()),
    )
    op.create_index("ix_audit_event_at", "audit_event", ["at"])
    op.create_index("ix_audit_event_actor", "audit_event", ["actor"])
    op.create_index("ix_audit_event_claim_id", "audit_event", ["claim_id"])
    op.create_index("ix_audit_event_source_id", "audit_event", ["source_id"])

    op.add_column("source", _version())
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with an inline REFERENCES in place (alembic would rebuild the table)
        op.execute("ALTER TABLE source ADD COLUMN merged_into_id INTEGER REFERENCES source (id)")
    else:
        op.add_column("source", sa.Column("merged_into_id", sa.Integer(), sa.ForeignKey("source.id")))
    for table in ("claim", "report"):
        op.add_column(table, _version())
        op.add_column(table, sa.Column("retracted_at", sa.DateTime()))
        op.add_column(table, sa.Column("retracted_by", sa.String(200)))
        op.add_column(table, sa.Column("retraction_reason", sa.Text()))
    # partial: only the (few) retracted claims, so "retracted_at IS NULL" never picks this index
    for table in ("claim", "report"):
        op.create_index(f"ix_{table}_retracted", table, ["id"], sqlite_where=sa.text("retracted_at IS NOT NULL"),
                        postgresql_where=sa.text("retracted_at IS NOT NULL"))


def downgrade() -> None:
    # SQLite: batch mode rebuilds claim and source, which other tables reference; run the
    # downgrade on a connection with `PRAGMA foreign_keys=OFF` (Alembic's batch-mode advice)
    op.drop_index("ix_report_retracted", table_name="report")
    op.drop_index("ix_claim_retracted", table_name="claim")
    for table in ("report", "claim"):
        with op.batch_alter_table(table) as batch:
            for column in ("retraction_reason", "retracted_by", "retracted_at", "version"):
                batch.drop_column(column)
    with op.batch_alter_table("source") as batch:
        batch.drop_column("merged_into_id")
        batch.drop_column("version")
    op.drop_table("audit_event")
    op.drop_table("login_session")
    op.drop_table("account")
