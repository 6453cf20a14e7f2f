"""The audit trail as a hash chain: each entry's link (`prev_hash`, `entry_hash`) and the chain's
head (`audit_head`); the entries already there are chained in id order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64)))
        batch.add_column(sa.Column("entry_hash", sa.String(64)))
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("last_id", sa.Integer()),
        sa.Column("last_hash", sa.String(64)),
        sa.Column("entries", sa.Integer(), nullable=False, server_default="0"),
    )
    _chain_existing_entries()


def _chain_existing_entries() -> None:
    """Link what the trail held before it was a chain, with the application's own hashing (the
    trail then verifies from its first entry)."""
    from bot.staff.audit import GENESIS, HEAD_ID, _key, entry_hash

    bind = op.get_bind()
    log = sa.table(
        "audit_log",
        sa.column("id"),
        sa.column("actor"),
        sa.column("action"),
        sa.column("target"),
        sa.column("detail"),
        sa.column("client"),
        sa.column("created_at", UTCDateTime()),
        sa.column("prev_hash"),
        sa.column("entry_hash"),
    )
    head = sa.table(
        "audit_head",
        sa.column("id"),
        sa.column("last_id"),
        sa.column("last_hash"),
        sa.column("entries"),
    )
    key, prev, count, last_id = _key(), GENESIS, 0, None
    for row in bind.execute(sa.select(log).order_by(log.c.id)).fetchall():
        link = entry_hash(row, prev, key)
        bind.execute(log.update().where(log.c.id == row.id).values(prev_hash=prev, entry_hash=link))
        prev, count, last_id = link, count + 1, row.id
    bind.execute(
        head.insert().values(
            id=HEAD_ID, last_id=last_id, last_hash=prev if count else None, entries=count
        )
    )


def downgrade() -> None:
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("entry_hash")
        batch.drop_column("prev_hash")
