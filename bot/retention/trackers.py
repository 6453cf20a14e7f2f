"""Reaching the conversations in Rasa's tracker store, to purge them or erase a requester's.

Rasa 3.6 has no API that deletes a conversation, so:

- With a SQL tracker store, a conversation is the rows of the `events` table with its
  `sender_id`; they are deleted there, directly. That is the embedded default (SQLite,
  `endpoints.yml`, file CONVERSATIONS_DB: bot.storage.conversations_db) and the scaled stack's
  PostgreSQL (`endpoints.scaled.yml`, TRACKER_DB_*), or any store TRACKER_STORE_URL names.
- With the in-memory tracker store (an installation whose endpoints.yml names
  `RetainingInMemoryTrackerStore`), conversations live only inside the Rasa process and
  vanish when it restarts. There is nothing on disk to purge; a single conversation is emptied
  through Rasa's HTTP API (`PUT /conversations/<id>/tracker/events` with `[]`, which replaces
  the tracker's events). That call does not delete rows of a SQL store, which is why the SQL
  path deletes rows itself.

Which one: TRACKER_STORE_URL, else TRACKER_DB_* (any of them set: the scaled stack), else what
endpoints.yml names (`tracker_store_url`). Either way a store that cannot be reached raises
`TrackerUnavailable`, so that the caller keeps what was asked as still to do. Nothing here
imports Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple, Union
from urllib.parse import quote

import httpx
import yaml
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.core.paths import ENDPOINTS_FILE
from bot.core.settings import Settings, load_settings
from bot.storage.conversations_db import conversations_db, sqlite_engine, sqlite_file, sqlite_url

# Rasa's `SQLTrackerStore.SQLEvent`, declared here without importing Rasa (the web app and the
# CLI do not load it). Never created from here: only Rasa creates its table.
_TRACKER_METADATA = MetaData()
EVENTS = Table(
    "events",
    _TRACKER_METADATA,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

TRACKER_DB_KEYS = (
    "TRACKER_DB_HOST",
    "TRACKER_DB_PORT",
    "TRACKER_DB_NAME",
    "TRACKER_DB_USER",
    "TRACKER_DB_PASSWORD",
)


class TrackerUnavailable(RuntimeError):
    """The tracker store could not be reached or refused; what was asked is still to be done."""


@dataclass(frozen=True)
class TrackerErasure:
    """What a tracker store erased: the erasure's audit entry says it in words."""

    conversations: int
    events: Optional[int]  # None where the store does not say (Rasa's in-memory store)


# The tracker stores of endpoints.yml that keep conversations in Rasa's `events` table: ours, and
# Rasa's own (`type: sql`).
SQL_STORES = ("bot.rasa.tracker_store.BoundedSQLTrackerStore", "sql")


def tracker_store_url(
    settings: Optional[Settings] = None, endpoints: Path = ENDPOINTS_FILE
) -> Optional[str]:
    """The SQLAlchemy URL of Rasa's SQL tracker store, or None for Rasa's memory.

    `TRACKER_STORE_URL` (bot.core.settings) when set; else, when any of the variables
    `endpoints.scaled.yml` uses (`TRACKER_DB_*`, from the environment or `.env`) is set, the
    scaled stack's PostgreSQL, with its defaults for those not set; else the SQLite file of
    `endpoints` (endpoints.yml: `embedded_tracker_url`)."""
    settings = settings or load_settings()
    if settings.tracker_store_url:
        return settings.tracker_store_url
    if all(settings.value_of(key) is None for key in TRACKER_DB_KEYS):
        return embedded_tracker_url(endpoints, settings)
    pick = settings.scaled_stores()
    return URL.create(
        "postgresql",
        username=pick["TRACKER_DB_USER"] or None,
        password=pick["TRACKER_DB_PASSWORD"] or None,
        host=pick["TRACKER_DB_HOST"],
        port=int(pick["TRACKER_DB_PORT"]),
        database=pick["TRACKER_DB_NAME"],
    ).render_as_string(hide_password=False)


def embedded_tracker_url(
    endpoints: Path = ENDPOINTS_FILE, settings: Optional[Settings] = None
) -> Optional[str]:
    """The URL of the SQLite file the tracker store of `endpoints` writes (its `db`, else
    CONVERSATIONS_DB), or None when it names another store: the in-memory one (reached
    through Rasa's HTTP API), or one on a server, which TRACKER_STORE_URL must then name."""
    store = _tracker_store_config(endpoints)
    if str(store.get("type")) not in SQL_STORES:
        return None
    if store.get("dialect", "sqlite") != "sqlite" or "://" in str(store.get("url") or ""):
        return None
    return sqlite_url(conversations_db(store.get("db"), settings))


def _tracker_store_config(endpoints: Path) -> Dict[str, Any]:
    try:
        config = yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return {}  # Rasa runs without an endpoints file with its in-memory store
    store = config.get("tracker_store") if isinstance(config, dict) else None
    return store if isinstance(store, dict) else {}


class SqlTracker:
    """Rasa's SQL tracker store, reached directly: whole conversations are deleted as rows."""

    kind = "sql"

    def __init__(self, url: Optional[str] = None, engine: Optional[Engine] = None) -> None:
        if engine is None:
            if url is None:
                raise ValueError("SqlTracker needs a URL or an engine")
            file = sqlite_file(url)
            # A SQLite file is opened as Rasa opens it: waiting for Rasa's writes.
            engine = sqlite_engine(file) if file else None
            engine = engine or create_engine(url, future=True, pool_pre_ping=True)
        self.engine = engine
        self.file = sqlite_file(engine.url)

    def _has_table(self, connection: Connection) -> bool:
        # Rasa creates `events` when it first starts with this store; before that, none exist.
        return inspect(connection).has_table("events")

    def _nothing_stored(self) -> bool:
        """A SQLite file Rasa has not made yet: nothing to delete, and no empty file made here
        (Rasa makes it, private)."""
        return self.file is not None and not self.file.exists()

    def purge(self, cutoff: datetime, dry_run: bool = False) -> Tuple[int, int]:
        """Delete every conversation whose LAST event is older than `cutoff`; returns
        (conversations, events). A conversation still going on is never cut in half: its old
        first messages stay with it until the whole conversation has been idle long enough."""
        stale = (
            select(EVENTS.c.sender_id)
            .group_by(EVENTS.c.sender_id)
            .having(func.max(EVENTS.c.timestamp) < cutoff.timestamp())
        )
        if self._nothing_stored():
            return 0, 0
        try:
            with self.engine.begin() as connection:
                if not self._has_table(connection):
                    return 0, 0
                counted = select(func.count(func.distinct(EVENTS.c.sender_id)), func.count()).where(
                    EVENTS.c.sender_id.in_(stale.scalar_subquery())
                )
                conversations, events = connection.execute(counted).one()
                if not dry_run and conversations:
                    # The staleness is checked again by the DELETE itself, so a visitor who
                    # came back since the count keeps the conversation.
                    events = connection.execute(
                        delete(EVENTS).where(EVENTS.c.sender_id.in_(stale.scalar_subquery()))
                    ).rowcount
        except SQLAlchemyError as error:
            raise TrackerUnavailable(type(error).__name__) from error
        return int(conversations), int(events)

    def erase(self, conversation_ids: Sequence[str]) -> TrackerErasure:
        """Delete every event of these conversations, all their sessions included."""
        ids = sorted(set(conversation_ids))
        if not ids or self._nothing_stored():
            return TrackerErasure(0, 0)
        try:
            with self.engine.begin() as connection:
                if not self._has_table(connection):
                    return TrackerErasure(0, 0)
                conversations = connection.execute(
                    select(func.count(func.distinct(EVENTS.c.sender_id))).where(
                        EVENTS.c.sender_id.in_(ids)
                    )
                ).scalar_one()
                events = connection.execute(
                    delete(EVENTS).where(EVENTS.c.sender_id.in_(ids))
                ).rowcount
        except SQLAlchemyError as error:
            raise TrackerUnavailable(type(error).__name__) from error
        return TrackerErasure(int(conversations), int(events))

    def close(self) -> None:
        self.engine.dispose()


class RasaApiTracker:
    """Rasa's in-memory tracker store, reached through Rasa's HTTP API (the only way in)."""

    kind = "memory"

    def __init__(
        self,
        rasa_url: str,
        token: str,
        transport: Optional[httpx.BaseTransport] = None,
        timeout: float = 5.0,
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        self.client = httpx.Client(transport=transport, timeout=timeout)

    def erase(self, conversation_ids: Sequence[str]) -> TrackerErasure:
        """Replace each conversation's events with none. Rasa unreachable, or refusing (a wrong
        token, say), raises `TrackerUnavailable`, so the caller keeps the erasure pending."""
        ids = sorted(set(conversation_ids))
        params = {"token": self.token} if self.token else {}
        for conversation_id in ids:
            url = f"{self.rasa_url}/conversations/{quote(conversation_id, safe='')}/tracker/events"
            try:
                response = self.client.put(url, params=params, json=[])
            except httpx.HTTPError as error:
                raise TrackerUnavailable(type(error).__name__) from error
            if response.status_code != 200:
                raise TrackerUnavailable(f"Rasa answered HTTP {response.status_code}")
        return TrackerErasure(len(ids), None)

    def close(self) -> None:
        self.client.close()


TrackerAccess = Union[SqlTracker, RasaApiTracker]


def tracker_from_environment(transport: Optional[httpx.BaseTransport] = None) -> TrackerAccess:
    """The tracker store this installation's Rasa uses (`tracker_store_url`): SQL, else Rasa's
    memory through its HTTP API (RASA_URL, RASA_API_TOKEN)."""
    url = tracker_store_url()
    if url:
        return SqlTracker(url)
    settings = load_settings()
    return RasaApiTracker(settings.rasa_url, settings.rasa_api_token, transport=transport)
