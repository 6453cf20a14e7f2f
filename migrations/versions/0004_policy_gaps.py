"""What the policy leaves unanswered: masked questions (`policy_gaps`) and answer ratings
(`answer_feedback`), for the legal department's next version of the policy.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "policy_gaps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reply_kind", sa.String(16), nullable=False, index=True),
        sa.Column("topic", sa.String(64), index=True),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("question", sa.String(500), nullable=False),
        sa.Column("created_at", TZ, nullable=False, index=True),
    )
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("section", sa.String(64), index=True),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("reply_kind", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(64)),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", TZ, nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("answer_feedback")
    op.drop_table("policy_gaps")
