"""Staff accounts, the audit log, handoff tickets, and the transcript kept with a request.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("privacy_requests") as batch:
        batch.add_column(sa.Column("transcript", sa.JSON()))
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor", sa.String(64), nullable=False, index=True),
        sa.Column("action", sa.String(32), nullable=False, index=True),
        sa.Column("target", sa.String(64), index=True),
        sa.Column("detail", sa.Text()),
        sa.Column("client", sa.String(64)),
        sa.Column("created_at", TZ, nullable=False, index=True),
    )
    op.create_table(
        "handoff_tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(128), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("contact_email", sa.String(254)),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("assigned_to", sa.String(64)),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("opened_at", TZ),
        sa.Column("closed_at", TZ),
        sa.Column("visitor_seen_at", TZ),
    )
    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("handoff_tickets.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("author", sa.String(64)),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("handoff_messages")
    op.drop_table("handoff_tickets")
    op.drop_table("audit_log")
    op.drop_table("staff_users")
    with op.batch_alter_table("privacy_requests") as batch:
        batch.drop_column("transcript")
