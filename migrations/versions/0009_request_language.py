"""The language of each request and handoff ticket: the conversation's ("en" or "zh"), so that a
request's e-mails go out in the language it was made in and staff see it.

Existing rows were all made in English conversations, hence the server default.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("privacy_requests", "handoff_tickets")


def upgrade() -> None:
    for table in TABLES:
        # batch: SQLite cannot add a NOT NULL column in place on every version alembic supports
        # (it can with a default, but batch keeps both databases on one path).
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("language", sa.String(8), nullable=False, server_default="en")
            )


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("language")
