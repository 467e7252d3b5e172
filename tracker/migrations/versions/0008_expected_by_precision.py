"""An expected-by date kept as a date: `claim.expected_by_date_only`, as 0007 did for the other times.

Adds `claim.expected_by_date_only` (false for every existing row: what was stored stays a time). An
expected-by written without a time (`20 December 2016`) is stored as 00:00 UTC of that day with the
flag set, shown and exported as `2016-12-20`, and counts as the end of that day when deciding what
is overdue (see tracker.queries). The column is added in place (ALTER TABLE ADD COLUMN) on SQLite
and PostgreSQL.

Revision ID: 0008_expected_by_precision
Revises: 0007_date_precision
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_expected_by_precision"
down_revision = "0007_date_precision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("claim", sa.Column("expected_by_date_only", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # SQLite: see 0005's note on batch mode
    with op.batch_alter_table("claim") as batch:
        batch.drop_column("expected_by_date_only")
