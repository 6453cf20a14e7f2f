"""Fulfilment tasks (`fulfilment_tasks`): one row per system taking part in a started request,
with its state, attempts, last error and times (bot.fulfilment).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "fulfilment_tasks",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("privacy_requests.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("system", sa.String(64), nullable=False, index=True),
        sa.Column("reach", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text()),
        sa.Column("detail", sa.Text()),
        sa.Column("settled_by", sa.String(64)),
        sa.Column("export_url", sa.Text()),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("sent_at", TZ),
        sa.Column("settled_at", TZ),
        sa.Column("next_attempt_at", TZ, index=True),
        sa.Column("claimed_until", TZ),
        sa.UniqueConstraint("request_id", "system", name="uq_task_request_system"),
    )


def downgrade() -> None:
    op.drop_table("fulfilment_tasks")
