"""Stable identities: every claim and report has a ref; merged claims point at the claim they joined.

Adds `report.ref` (unique) and `claim.merged_into_id`, and gives every existing claim without a
`claim_ref` and every existing report a generated one (`c-` or `r-` and 16 random hex digits, as
`tracker.models.new_ref` makes them, so refs from two stores never meet). Existing data is
otherwise untouched; columns are added in place (ALTER TABLE ADD COLUMN) on SQLite and PostgreSQL.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _random_hex(dialect: str) -> str:
    """SQL giving 16 random hex digits per row."""
    if dialect == "sqlite":
        return "lower(hex(randomblob(8)))"
    return "substr(md5(random()::text || clock_timestamp()::text || id::text), 1, 16)"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("report", sa.Column("ref", sa.String(200)))
    if dialect == "sqlite":
        # SQLite adds a column with an inline REFERENCES in place (alembic would rebuild the table)
        op.execute("ALTER TABLE claim ADD COLUMN merged_into_id INTEGER REFERENCES claim (id)")
    else:
        op.add_column("claim", sa.Column("merged_into_id", sa.Integer(), sa.ForeignKey("claim.id")))
    random_hex = _random_hex(dialect)
    op.execute(f"UPDATE claim SET ref = 'c-' || {random_hex} WHERE ref IS NULL")
    op.execute(f"UPDATE report SET ref = 'r-' || {random_hex}")
    op.create_index("ix_report_ref", "report", ["ref"], unique=True)


def downgrade() -> None:
    # generated claim refs stay (claim.ref is older than this revision); SQLite: see 0005's note
    op.drop_index("ix_report_ref", table_name="report")
    with op.batch_alter_table("report") as batch:
        batch.drop_column("ref")
    with op.batch_alter_table("claim") as batch:
        batch.drop_column("merged_into_id")
