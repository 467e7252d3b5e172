"""Each (claim, source)'s final stance kept on write: `stance_pair`, `stale_claim`, `stance_pair_state`.

`stance_pair` holds, per (claim, source), the stance scoring credits (see `tracker.pairs`), so that
`tracker scores` sums one row per pair instead of grouping every report. `stance_pair_state` keeps
the newest report and verdict ids the table has taken in; triggers on `report`, `outcome` and
`claim` mark the claims whose rows change in `stale_claim`; the writer rebuilds the out-of-date
claims' pairs before it commits (`tracker.pairs.refresh`). The migration fills the table from the
reports (about 12 s of CPU per million reports on SQLite). Downgrading drops the triggers and the
tables.

Revision ID: 0009_stance_pairs
Revises: 0008_expected_by_precision
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_stance_pairs"
down_revision = "0008_expected_by_precision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from tracker import pairs

    op.create_table(
        "stance_pair",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("stance", sa.String(length=20), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("verdict_value", sa.Float(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lead_days", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "stance", "claim_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_stance_pair_claim", "stance_pair", ["claim_id", "source_id"], unique=True)
    op.create_table(
        "stale_claim",
        sa.Column("claim_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("claim_id"),
    )
    op.create_table(
        "stance_pair_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("outcome_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    connection = op.get_bind()
    pairs.start(connection)
    pairs.rebuild(connection)


def downgrade() -> None:
    from tracker import pairs

    pairs.uninstall(op.get_bind())
    op.drop_table("stance_pair_state")
    op.drop_table("stale_claim")
    op.drop_index("ix_stance_pair_claim", table_name="stance_pair")
    op.drop_table("stance_pair")
