"""The audit trail as a hash chain, so that an entry edited, deleted or moved in the database
shows.

Each entry carries the hash of the entry before it and its own: an HMAC-SHA256, keyed from
APP_SECRET, over its fields and that previous hash. Someone who can write to the database but
does not hold the secret cannot make an edited trail verify again; one who holds both could, which
is why the secret lives outside the database. A one-row head (`audit_head`) holds the last link:
writing it first is what puts concurrent entries one after another, and it shows a trail whose
last entries were removed.

`python -m bot audit verify` walks the chain (exit 0 intact, 1 broken, naming the first broken
entry); the staff desk shows the same verdict.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.clock import utcnow
from bot.core.settings import load_settings
from bot.storage.models import AuditEntry, AuditHead

HEAD_ID = 1
GENESIS = "0" * 64  # the "previous hash" of the first entry


def _key(secret: Optional[str] = None) -> bytes:
    chosen = load_settings().app_secret if secret is None else secret
    return hmac.new((chosen or "").encode(), b"videopro audit trail v1", hashlib.sha256).digest()


def _moment(value: datetime) -> str:
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).isoformat(timespec="microseconds")


def entry_hash(entry: Any, prev_hash: str, key: bytes) -> str:
    """The link of an entry (a row or anything with its fields): its id too, so that two
    entries swapped in place break the chain."""
    fields = [
        entry.id,
        entry.actor,
        entry.action,
        entry.target,
        entry.detail,
        entry.client,
        _moment(entry.created_at),
        prev_hash,
    ]
    message = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _head(session: Session) -> AuditHead:
    """The head row, locked for this transaction (the UPDATE is what takes the lock)."""
    lock = update(AuditHead).where(AuditHead.id == HEAD_ID).values(id=HEAD_ID)
    if not session.execute(lock).rowcount:
        # No head yet (the migration makes one; an emptied table has none): the first writer
        # makes it, and one racing it finds it made.
        try:
            with session.begin_nested():
                session.add(AuditHead(id=HEAD_ID, last_id=None, last_hash=None, entries=0))
        except IntegrityError:
            pass
        session.execute(lock)
    return session.execute(select(AuditHead).where(AuditHead.id == HEAD_ID)).scalar_one()


def append(
    session: Session,
    actor: str,
    action: str,
    target: Optional[str] = None,
    detail: Optional[str] = None,
    client: Optional[str] = None,
    now: Optional[datetime] = None,
    secret: Optional[str] = None,
) -> AuditEntry:
    """Add an entry, chained to the last one, in the caller's transaction."""
    head = _head(session)
    prev = head.last_hash or GENESIS
    entry = AuditEntry(
        actor=actor,
        action=action,
        target=target,
        detail=detail,
        client=client,
        created_at=now or utcnow(),
        prev_hash=prev,
    )
    session.add(entry)
    session.flush()  # its id is part of what is hashed
    entry.entry_hash = entry_hash(entry, prev, _key(secret))
    head.last_id, head.last_hash, head.entries = entry.id, entry.entry_hash, head.entries + 1
    session.flush()
    return entry


@dataclass(frozen=True)
class Verdict:
    intact: bool
    entries: int
    broken_at: Optional[int] = None  # the id of the first entry that does not verify
    reason: str = ""

    def __str__(self) -> str:
        if self.intact:
            return f"audit trail intact: {self.entries} entries"
        where = f"entry #{self.broken_at}" if self.broken_at is not None else "the end"
        return f"audit trail broken at {where}: {self.reason}"


def verify(session: Session, secret: Optional[str] = None) -> Verdict:
    """Walk the trail in id order and check every link, then the head."""
    key = _key(secret)
    prev, count, last_id = GENESIS, 0, None
    for entry in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        if entry.prev_hash != prev:
            reason = (
                "an entry before it was removed or the entries were reordered"
                if entry.prev_hash
                else "it has no link (written outside the trail)"
            )
            return Verdict(False, count, entry.id, reason)
        if entry.entry_hash != entry_hash(entry, prev, key):
            return Verdict(False, count, entry.id, "its contents were changed")
        prev, count, last_id = entry.entry_hash, count + 1, entry.id
    head = session.get(AuditHead, HEAD_ID)
    expected = (head.last_id, head.last_hash, head.entries) if head else (None, None, 0)
    if expected != (last_id, prev if count else None, count):
        return Verdict(
            False,
            count,
            None,
            f"the trail should end at entry #{expected[0]} "
            f"after {expected[2]} entries; the last entries were removed",
        )
    return Verdict(True, count)
