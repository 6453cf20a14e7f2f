"""Reaching the conversations in Rasa's tracker store, to purge them or erase a requester's.

Rasa 3.6 has no API that deletes a conversation, so:

- With the SQL tracker store (the scaled stack, `endpoints.scaled.yml`), a conversation is the
  rows of the `events` table with its `sender_id`; they are deleted there, directly.
- With the default in-memory tracker store, conversations live only inside the Rasa process and
  vanish when it restarts. There is nothing on disk to purge; a single conversation is emptied
  through Rasa's HTTP API (`PUT /conversations/<id>/tracker/events` with `[]`, which replaces
  the tracker's events). That call does not delete rows of the SQL store, which is why the SQL
  path deletes rows itself.

Either way a store that cannot be reached raises `TrackerUnavailable`, so that the caller keeps
what was asked as still to do. Nothing here imports Rasa.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Sequence, Tuple, Union
from urllib.parse import quote

import httpx
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

from bot.core.settings import Settings, load_settings

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


def tracker_store_url(settings: Optional[Settings] = None) -> Optional[str]:
    """The SQLAlchemy URL of Rasa's SQL tracker store, or None for the in-memory default.

    Read from the variables `endpoints.scaled.yml` uses (`TRACKER_DB_*`, from the environment or
    `.env`), with the scaled stack's defaults for those not set, or from `TRACKER_STORE_URL`
    (bot.core.settings). None of them set means the stack keeps conversations in Rasa's
    memory."""
    settings = settings or load_settings()
    if settings.tracker_store_url:
        return settings.tracker_store_url
    if all(settings.value_of(key) is None for key in TRACKER_DB_KEYS):
        return None
    pick = settings.scaled_stores()
    return URL.create(
        "postgresql",
        username=pick["TRACKER_DB_USER"] or None,
        password=pick["TRACKER_DB_PASSWORD"] or None,
        host=pick["TRACKER_DB_HOST"],
        port=int(pick["TRACKER_DB_PORT"]),
        database=pick["TRACKER_DB_NAME"],
    ).render_as_string(hide_password=False)


class SqlTracker:
    """Rasa's SQL tracker store, reached directly: whole conversations are deleted as rows."""

    kind = "sql"

    def __init__(self, url: str, engine: Optional[Engine] = None) -> None:
        self.engine = engine or create_engine(url, future=True, pool_pre_ping=True)

    def _has_table(self, connection: Connection) -> bool:
        # Rasa creates `events` when it first starts with this store; before that, none exist.
        return inspect(connection).has_table("events")

    def purge(self, cutoff: datetime, dry_run: bool = False) -> Tuple[int, int]:
        """Delete every conversation whose LAST event is older than `cutoff`; returns
        (conversations, events). A conversation still going on is never cut in half: its old
        first messages stay with it until the whole conversation has been idle long enough."""
        stale = (
            select(EVENTS.c.sender_id)
            .group_by(EVENTS.c.sender_id)
            .having(func.max(EVENTS.c.timestamp) < cutoff.timestamp())
        )
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
        if not ids:
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
    """The tracker store this installation's Rasa uses: SQL when configured, else Rasa's memory
    through its HTTP API (RASA_URL, RASA_API_TOKEN)."""
    url = tracker_store_url()
    if url:
        return SqlTracker(url)
    settings = load_settings()
    return RasaApiTracker(settings.rasa_url, settings.rasa_api_token, transport=transport)
