"""Each claim's reported status kept on write: `claim_status`.

`claim_status` holds each claim's reported status (see `tracker.statuses`), so that the Claims page
filtered by a status reads an index instead of grouping every report (2.6 s at a million reports,
28 s at ten million). It is rebuilt with the kept pairs of schema 0009, for the claims their marks
say are out of date. The migration fills it from the reports. Downgrading drops the table.

Revision ID: 0010_claim_status
Revises: 0009_stance_pairs
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_claim_status"
down_revision = "0009_stance_pairs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from tracker import statuses

    op.create_table(
        "claim_status",
        sa.Column("claim_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("claim_id"),
    )
    op.create_index("ix_claim_status_status", "claim_status", ["status", "claim_id"], unique=False)
    statuses.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_claim_status_status", table_name="claim_status")
    op.drop_table("claim_status")
