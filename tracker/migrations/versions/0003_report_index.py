"""Drop the report index on claim_id alone: the report identity index starts with claim_id.

`uq_report_identity (claim_id, source_id, stance, reported_at)` already serves every lookup by
claim; a second index on the same leading column only slowed each insert (about a tenth of a bulk
import's time).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_report_claim_id", table_name="report")


def downgrade() -> None:
    op.create_index("ix_report_claim_id", "report", ["claim_id"])
