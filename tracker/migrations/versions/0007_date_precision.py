"""Dates kept as dates: a "date only" flag beside each time a person writes.

Adds `claim.first_reported_date_only`, `report.reported_date_only` and `outcome.decided_date_only`
(false for every existing row: what was stored stays a time). A date written without a time
(`13 December 2016`) is stored as 00:00 UTC of that day with its flag set, and shown and exported
as `2016-12-13` (see tracker.dates). Columns are added in place (ALTER TABLE ADD COLUMN) on SQLite
and PostgreSQL.

Revision ID: 0007_date_precision
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_date_precision"
down_revision = "0006"
branch_labels = None
depends_on = None

FLAGS = (("claim", "first_reported_date_only"), ("report", "reported_date_only"), ("outcome", "decided_date_only"))


def upgrade() -> None:
    for table, column in FLAGS:
        op.add_column(table, sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # SQLite: see 0005's note on batch mode
    for table, column in FLAGS:
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
