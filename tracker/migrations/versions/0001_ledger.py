"""The claim ledger: sources, aliases, claims, topics, reports, outcomes.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("name_key", sa.String(300), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("affiliation", sa.String(300)),
        sa.Column("url", sa.String(2000)),
        sa.Column("notes", sa.Text()),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("source.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_source_parent_id", "source", ["parent_id"])
    op.create_table(
        "source_alias",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("source.id"), nullable=False),
        sa.Column("alias", sa.String(300), nullable=False),
        sa.Column("alias_key", sa.String(300), nullable=False, unique=True),
    )
    op.create_index("ix_source_alias_source_id", "source_alias", ["source_id"])
    op.create_table(
        "claim",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(200), unique=True),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("first_reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected_by", sa.DateTime(timezone=True)),
        sa.Column("logged_by", sa.String(200)),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_claim_first_reported_at", "claim", ["first_reported_at"])
    op.create_table(
        "claim_topic",
        sa.Column("claim_id", sa.Integer(), sa.ForeignKey("claim.id"), primary_key=True),
        sa.Column("topic", sa.String(200), primary_key=True),
    )
    op.create_index("ix_claim_topic_topic", "claim_topic", ["topic"])
    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("claim_id", sa.Integer(), sa.ForeignKey("claim.id"), nullable=False),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("source.id"), nullable=False),
        sa.Column("stance", sa.String(20), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("via_source_id", sa.Integer(), sa.ForeignKey("source.id")),
        sa.Column("url", sa.String(2000)),
        sa.Column("quote", sa.Text()),
        sa.Column("logged_by", sa.String(200)),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("claim_id", "source_id", "stance", "reported_at", name="uq_report_identity"),
    )
    op.create_index("ix_report_claim_id", "report", ["claim_id"])
    op.create_index("ix_report_source_id", "report", ["source_id"])
    op.create_table(
        "outcome",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("claim_id", sa.Integer(), sa.ForeignKey("claim.id"), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence_url", sa.String(2000)),
        sa.Column("note", sa.Text()),
        sa.Column("reviewer", sa.String(200)),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_outcome_claim_id", "outcome", ["claim_id"])


def downgrade() -> None:
    for table in ("outcome", "report", "claim_topic", "claim", "source_alias", "source"):
        op.drop_table(table)
