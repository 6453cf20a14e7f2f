"""The tracker stores: conversations kept bounded (bot.rasa.bounded), in SQL or in memory.

`BoundedSQLTrackerStore` is Rasa's SQL store (its `events` table, which `python -m bot purge`
and the erasure of a deletion request work on) with the bounds, and with two statements per
message instead of about a dozen: one SELECT of the latest session when the message comes, and
on saving one multi-row INSERT of the new events (Rasa counts the stored events with a query
first, then inserts them one statement each). When the session is continued in a new one, the
conversation's earlier rows are deleted in the same transaction, so the table holds a bounded
number of rows per conversation.

It is the embedded default on SQLite (endpoints.yml): conversations survive a restart of Rasa,
in one file (bot.storage.conversations_db: where, private, WAL), for 0.6 ms a message against
0.32 ms in memory (`python -m bot bench --store-cost`). Given a `retention` (endpoints.yml's,
or CONVERSATION_RETENTION), it also deletes from time to time the conversations idle for longer,
as the memory store forgets them; the scaled stack's PostgreSQL store is given none and is left
to `python -m bot purge`.

`RetainingInMemoryTrackerStore`, chosen by naming it in endpoints.yml instead, keeps the
conversations in Rasa's memory, lost when Rasa restarts. Rasa's own in-memory store keeps every
conversation for as long as the process runs, every session of it, and on each message replays
them all twice (once to rebuild the tracker, once to split it into sessions). This one keeps a
conversation's latest session only, bounded, rebuilds it once, and forgets a conversation once
nobody has written to it for the retention period (30 days unless `retention` in endpoints.yml or
`CONVERSATION_RETENTION` says otherwise), checked as conversations are saved.
"""

from __future__ import annotations

import json
import logging
import math
import time
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import (
    InMemoryTrackerStore,
    SQLTrackerStore,
    create_engine_kwargs,
)
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.core.settings import load_settings
from bot.rasa.bounded import Bounds, bounded
from bot.rasa.event_codec import tracker_from, tracker_from_json
from bot.retention.ages import parse_age
from bot.retention.trackers import SqlTracker, TrackerUnavailable
from bot.storage.conversations_db import conversations_db, private_database, sqlite_engine

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 600.0


def configured_bounds(max_events: Optional[int] = None, keep_turns: Optional[int] = None) -> Bounds:
    """The bounds endpoints.yml gives (`max_events`, `keep_turns`), else the settings'."""
    settings = load_settings()
    return Bounds(
        max_events=int(max_events or settings.conversation_max_events),
        keep_turns=int(keep_turns or settings.conversation_keep_turns),
    )


class RetainingInMemoryTrackerStore(InMemoryTrackerStore):
    def __init__(
        self,
        domain: Any,
        event_broker: Optional[Any] = None,
        retention: str = "30d",
        host: Optional[str] = None,
        clock: Any = time.time,
        max_events: Optional[int] = None,
        keep_turns: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain, event_broker, **kwargs)
        self.retention = parse_age(load_settings().conversation_retention or str(retention))
        self.bounds = configured_bounds(max_events, keep_turns)
        self.clock = clock
        self.last_active: Dict[str, float] = {}
        self._last_sweep = self.clock()

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        events, _ = bounded(tracker, self.bounds)
        self.store[tracker.sender_id] = json.dumps([event.as_dict() for event in events])
        now = self.clock()
        self.last_active[tracker.sender_id] = now
        if now - self._last_sweep >= SWEEP_EVERY_SECONDS:
            self.sweep(now)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The stored session, rebuilt once (it is the latest: no sessions to split)."""
        serialised = self.store.get(sender_id)
        if serialised is None:
            return None
        return tracker_from_json(sender_id, serialised, self.domain.slots)

    async def retrieve_full_tracker(self, sender_id: str) -> Optional[DialogueStateTracker]:
        return await self.retrieve(sender_id)

    def sweep(self, now: Optional[float] = None) -> int:
        """Forget conversations idle for longer than the retention period; how many went."""
        now = self.clock() if now is None else now
        self._last_sweep = now
        cutoff = now - self.retention.total_seconds()
        idle = [sender for sender, seen in self.last_active.items() if seen < cutoff]
        for sender in idle:
            self.store.pop(sender, None)
            self.last_active.pop(sender, None)
        if idle:
            log.info("Forgot %d conversations idle for more than %s", len(idle), self.retention)
        return len(idle)


# The latest session of a conversation, as Rasa's own store selects it (by timestamp: its
# `action_session_start` comes just before its `session_started`), in one statement.
LATEST_SESSION = sa.text(
    "SELECT data FROM events, (SELECT max(timestamp) AS start FROM events "
    "WHERE sender_id = :sender AND type_name = 'session_started') AS latest "
    "WHERE sender_id = :sender AND (latest.start IS NULL OR timestamp >= latest.start) "
    "ORDER BY id"
)


class BoundedSQLTrackerStore(SQLTrackerStore):
    def __init__(
        self,
        domain: Any = None,
        max_events: Optional[int] = None,
        keep_turns: Optional[int] = None,
        retention: Optional[str] = None,
        clock: Any = time.time,
        dialect: str = "sqlite",
        host: Optional[str] = None,
        db: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        file = None
        if dialect == "sqlite" and not (host and "://" in host):
            # Before Rasa's engine opens it: created private, where the command line finds it.
            file = private_database(conversations_db(db))
            db = str(file)
        if db is not None:
            kwargs["db"] = db
        super().__init__(domain, dialect=dialect, host=host, **kwargs)
        if file is not None:
            # Rasa's engine (a NullPool: the file opened again for every statement) made the
            # table; from here on a pooled one, in WAL mode, that waits for the purge's writes.
            # (Rasa leaves its engine untyped.)
            self.engine.dispose()  # type: ignore[has-type]
            self.engine = sqlite_engine(file, future=False)
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)
        elif self.engine.dialect.name == "postgresql":
            sa.event.listen(self.engine, "connect", _commit_without_waiting_for_disk)
            self.engine.dispose()
        self.events = _SqliteEvents(self.engine) if file is not None else _SqlEvents(self.engine)
        self.bounds = configured_bounds(max_events, keep_turns)
        # How many events of each conversation being handled the table holds: known from the
        # SELECT that loaded it, so saving needs no count. Only conversations between their
        # load and their save are here (the lock store keeps one message per conversation).
        self._stored: Dict[str, int] = {}
        given = load_settings().conversation_retention or retention
        self.retention = parse_age(str(given)) if retention else None
        self.clock = clock
        self._last_sweep = -math.inf  # the first save sweeps what went idle while Rasa was down

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        rows = self.events.latest_session(sender_id)
        self._stored[sender_id] = len(rows)
        if not rows or not self.domain:
            return None
        return tracker_from(sender_id, map(json.loads, rows), self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        sender = tracker.sender_id
        events, rewritten = bounded(tracker, self.bounds)
        stored = self._stored.pop(sender, None)
        if rewritten or stored is None:  # the session was rewritten, or saved without a load
            self.events.replace(sender, [_row(sender, e) for e in events])
        elif len(events) > stored:
            self.events.append([_row(sender, e) for e in events[stored:]])
        if self.retention is not None:
            now = self.clock()
            if now - self._last_sweep >= SWEEP_EVERY_SECONDS:
                self.sweep(now)

    def sweep(self, now: Optional[float] = None) -> int:
        """Delete the conversations whose latest event is older than the retention period, as
        `python -m bot purge` does (the same statement); how many went. A database that
        refuses is logged and tried again at the next sweep: saving goes on."""
        if self.retention is None:
            return 0
        now = self.clock() if now is None else now
        self._last_sweep = now
        cutoff = datetime.fromtimestamp(now, timezone.utc) - self.retention
        try:
            conversations, _ = SqlTracker(engine=self.engine).purge(cutoff)
        except TrackerUnavailable as problem:
            log.warning("Could not delete idle conversations: %s", problem)
            return 0
        if conversations:
            log.info("Deleted %d conversations idle for over %s", conversations, self.retention)
        return conversations


class _SqlEvents:
    """Rasa's `events` table through SQLAlchemy (PostgreSQL). Loading and appending need no
    transaction of their own (a multi-row INSERT is one atomic statement): on an engine whose
    connections are always in autocommit each is one round trip, with no BEGIN before it, no
    ROLLBACK when the connection goes back to the pool, and no SET to undo a per-use isolation
    level (that made 4 statements a message, not 2). A rewrite is one transaction."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.autocommit = _autocommit_engine(engine)
        self.table = SQLTrackerStore.SQLEvent.__table__

    def latest_session(self, sender: str) -> List[str]:
        with self.autocommit.connect() as connection:
            return list(connection.execute(LATEST_SESSION, {"sender": sender}).scalars())

    def append(self, rows: List[Dict[str, Any]]) -> None:
        with self.autocommit.connect() as connection:
            connection.execute(sa.insert(self.table), rows)

    def replace(self, sender: str, rows: List[Dict[str, Any]]) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.delete(self.table).where(self.table.c.sender_id == sender))
            connection.execute(sa.insert(self.table), rows)


_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")


class _SqliteEvents:
    """Rasa's `events` table in the SQLite file, through one connection the store keeps, used
    directly: through SQLAlchemy's engine each statement cost more in Python than in the file
    (`python -m bot bench --store-cost` measures the store as it is); in autocommit, a rewrite
    one explicit transaction."""

    SELECT = LATEST_SESSION.text  # sqlite3 takes `:sender` as it is
    INSERT = f"INSERT INTO events ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"

    def __init__(self, engine: Any) -> None:
        self._pooled = engine.raw_connection()  # kept for the store's life
        self.connection = self._pooled.dbapi_connection
        self.connection.isolation_level = None

    def latest_session(self, sender: str) -> List[str]:
        cursor = self.connection.execute(self.SELECT, {"sender": sender})
        return [row[0] for row in cursor.fetchall()]

    def append(self, rows: List[Dict[str, Any]]) -> None:
        self.connection.executemany(self.INSERT, [tuple(r[c] for c in _COLUMNS) for r in rows])

    def replace(self, sender: str, rows: List[Dict[str, Any]]) -> None:
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            self.connection.execute("DELETE FROM events WHERE sender_id = ?", (sender,))
            self.append(rows)
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")


def _autocommit_engine(engine: Any) -> Any:
    """A second engine on the same database whose connections stay in autocommit."""
    autocommit = sa.create_engine(
        engine.url, isolation_level="AUTOCOMMIT", **create_engine_kwargs(engine.url)
    )
    if autocommit.dialect.name == "postgresql":
        sa.event.listen(autocommit, "connect", _commit_without_waiting_for_disk)
    return autocommit


def _commit_without_waiting_for_disk(connection: Any, _record: Any) -> None:
    """PostgreSQL's `synchronous_commit = off` for the tracker store's own sessions: a commit
    returns before its WAL reaches the disk (PostgreSQL writes it within 3 x wal_writer_delay,
    600 ms by default). Rasa's SQL calls block its event loop, so every message waited for a
    disk flush with every other conversation stopped behind it; a server crash can now lose a
    conversation's last fraction of a second (never a request: the request database keeps
    full durability), and nothing is ever left half-written or out of order."""
    cursor = connection.cursor()
    cursor.execute("SET synchronous_commit TO off")
    cursor.close()
    connection.commit()


def _row(sender: str, event: Event) -> Dict[str, Any]:
    """An event as a row of Rasa's `events` table, as Rasa's own store writes it."""
    data = event.as_dict()
    return {
        "sender_id": sender,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


__all__: List[str] = ["BoundedSQLTrackerStore", "RetainingInMemoryTrackerStore"]
