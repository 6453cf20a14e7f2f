"""When the chat conversations of a completed deletion request were erased.

Empty on a completed deletion request means the erasure of its requester's conversations is
still to be done (Rasa was unreachable, say): `python -m bot purge` finds and retries it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("privacy_requests") as batch:
        batch.add_column(sa.Column("conversations_erased_at", TZ))


def downgrade() -> None:
    with op.batch_alter_table("privacy_requests") as batch:
        batch.drop_column("conversations_erased_at")
