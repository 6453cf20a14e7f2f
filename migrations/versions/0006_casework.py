"""Working a request: assignment, one extension, holds, how a rejected request was closed, and
notes and messages (`request_notes`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
COLUMNS = (
    ("assignee", sa.String(64)),
    ("original_due_at", TZ),
    ("extension_reason", sa.Text()),
    ("held_at", TZ),
    ("hold_reason", sa.String(32)),
    ("hold_note", sa.Text()),
    ("hold_stops_clock", sa.Boolean()),
    ("closed_as", sa.String(16)),
)


def upgrade() -> None:
    with op.batch_alter_table("privacy_requests") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind))
        batch.create_index("ix_privacy_requests_assignee", ["assignee"])
    op.create_table(
        "request_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("privacy_requests.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("request_notes")
    with op.batch_alter_table("privacy_requests") as batch:
        batch.drop_index("ix_privacy_requests_assignee")
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
