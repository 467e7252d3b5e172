"""Analyst notes on reports; relay lookups; latest-outcome index.

Adds `report.note` (free text that travels with the CSV `note` column), an index on
`report.via_source_id` for relay queries, and replaces the plain outcome index with
(claim_id, id) so "the verdict in force" is one index probe per claim.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report") as batch:
        batch.add_column(sa.Column("note", sa.Text()))
    op.create_index("ix_report_via_source_id", "report", ["via_source_id"])
    op.drop_index("ix_outcome_claim_id", table_name="outcome")
    op.create_index("ix_outcome_claim_latest", "outcome", ["claim_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_outcome_claim_latest", table_name="outcome")
    op.create_index("ix_outcome_claim_id", "outcome", ["claim_id"])
    op.drop_index("ix_report_via_source_id", table_name="report")
    with op.batch_alter_table("report") as batch:
        batch.drop_column("note")
