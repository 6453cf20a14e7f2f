"""The embedded tracker stores (bot/rasa/tracker_store.py): Rasa builds the SQLite one from
endpoints.yml, conversations survive a restart in a private file, and both stores forget
conversations idle for longer than the retention period."""

import asyncio
import re
import stat
from pathlib import Path

from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy import event, text
from sqlalchemy.pool import QueuePool

from bot.core.paths import ENDPOINTS_FILE, ROOT
from bot.rasa.tracker_store import (
    SWEEP_EVERY_SECONDS,
    BoundedSQLTrackerStore,
    RetainingInMemoryTrackerStore,
)
from bot.retention.trackers import (
    TRACKER_DB_KEYS,
    SqlTracker,
    embedded_tracker_url,
    tracker_from_environment,
)
from bot.storage.conversations_db import BUSY_TIMEOUT_MS

DOMAIN = Domain.load(str(ROOT / "domain.yml"))
DAY = 86400.0


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


def conversation(sender, at=1_800_000_000.0):
    return DialogueStateTracker.from_events(
        sender,
        [UserUttered("my e-mail is a@b.co", timestamp=at), BotUttered("Noted", timestamp=at)],
    )


def from_endpoints(path=ENDPOINTS_FILE):
    """The tracker store Rasa builds from an endpoints file, as `rasa run` does."""
    return TrackerStore.create(read_endpoint_config(str(path), "tracker_store"), DOMAIN)


def mode(path):
    return stat.S_IMODE(Path(path).stat().st_mode)


def senders(store):
    with store.engine.connect() as connection:
        return set(connection.execute(text("SELECT DISTINCT sender_id FROM events")).scalars())


# -- the embedded default: Rasa's SQL store on SQLite -----------------------------------------


def test_rasa_builds_the_sqlite_store_from_endpoints_yml_in_a_private_file(set_env, tmp_path):
    file = tmp_path / "var" / "conversations.db"
    set_env(CONVERSATIONS_DB=str(file), CONVERSATION_RETENTION=None)
    store = from_endpoints()
    assert isinstance(store, BoundedSQLTrackerStore)
    assert store.retention.days == 30
    assert Path(store.engine.url.database) == file
    asyncio.run(store.save(conversation("visitor")))
    assert mode(file) == 0o600 and mode(file.parent) == 0o700
    assert mode(f"{file}-wal") == 0o600  # SQLite gives its journal the file's mode
    with store.engine.connect() as connection:
        pragma = lambda name: connection.execute(text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 1  # NORMAL
        assert pragma("busy_timeout") == BUSY_TIMEOUT_MS
    store.engine.dispose()


def test_a_conversation_survives_a_restart_of_rasa(set_env, tmp_path):
    set_env(CONVERSATIONS_DB=str(tmp_path / "conversations.db"))
    first = from_endpoints()
    tracker = conversation("visitor", at=1_800_000_000.0)
    tracker.update(SlotSet("language", "zh", timestamp=1_800_000_001.0))
    asyncio.run(first.save(tracker))
    first.engine.dispose()  # Rasa stops

    again = from_endpoints()  # and starts again: a new store on the same file
    kept = asyncio.run(again.retrieve("visitor"))
    assert kept is not None and kept.get_slot("language") == "zh"
    assert [e.text for e in kept.events if isinstance(e, UserUttered)] == ["my e-mail is a@b.co"]
    assert asyncio.run(again.retrieve("nobody")) is None
    again.engine.dispose()


def test_the_store_keeps_its_connection_between_messages(set_env, tmp_path):
    """Rasa's own engine would open the file again for every statement (a NullPool)."""
    set_env(CONVERSATIONS_DB=str(tmp_path / "conversations.db"))
    store = from_endpoints()
    assert isinstance(store.engine.pool, QueuePool)
    opened = []
    event.listen(store.engine, "connect", lambda *args: opened.append(1))
    for number in range(20):
        tracker = asyncio.run(store.retrieve("visitor")) or conversation("visitor")
        tracker.update(UserUttered(f"message {number}", timestamp=1_800_000_100.0 + number))
        asyncio.run(store.save(tracker))
    assert len(opened) == 1
    store.engine.dispose()


def test_a_relative_file_is_taken_from_the_project_root_by_rasa_and_the_purge_alike(
    set_env, no_env_file, tmp_path, monkeypatch
):
    import bot.storage.conversations_db as conversations_module

    monkeypatch.setattr(conversations_module, "ROOT", tmp_path)  # not the repository's own
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # where Rasa or the command line may run from
    set_env(
        CONVERSATIONS_DB="state/conversations.db",
        TRACKER_STORE_URL=None,
        **{key: None for key in TRACKER_DB_KEYS},
    )
    store = from_endpoints()
    asyncio.run(store.save(conversation("visitor")))
    assert (tmp_path / "state" / "conversations.db").is_file()
    tracker = tracker_from_environment()
    try:
        assert isinstance(tracker, SqlTracker)
        assert tracker.file == tmp_path / "state" / "conversations.db"
        assert tracker.erase(["visitor"]).events == 2
    finally:
        tracker.close()
    assert senders(store) == set()
    store.engine.dispose()


def test_the_sqlite_store_deletes_idle_conversations_from_time_to_time(set_env, tmp_path):
    set_env(CONVERSATIONS_DB=str(tmp_path / "conversations.db"), CONVERSATION_RETENTION=None)
    clock = Clock()
    store = BoundedSQLTrackerStore(DOMAIN, retention="30d", clock=clock)
    asyncio.run(store.save(conversation("old", at=clock.now)))
    clock.now += 20 * DAY
    asyncio.run(store.save(conversation("recent", at=clock.now)))
    clock.now += 11 * DAY  # "old" idle 31 days, "recent" 11
    asyncio.run(store.save(conversation("new", at=clock.now)))  # a save sweeps
    assert senders(store) == {"recent", "new"}
    clock.now += 20 * DAY  # "recent" idle 31 days: only a sweep 10 minutes on removes it
    store._last_sweep = clock.now
    asyncio.run(store.save(conversation("third", at=clock.now)))
    assert "recent" in senders(store) and SWEEP_EVERY_SECONDS > 0
    store.engine.dispose()

    # Restarted: the first save sweeps what went idle while Rasa was down.
    again = BoundedSQLTrackerStore(DOMAIN, retention="30d", clock=clock)
    asyncio.run(again.save(conversation("fourth", at=clock.now)))
    assert senders(again) == {"new", "third", "fourth"}  # "recent" idle 31 days, "new" 20
    again.engine.dispose()


def test_without_a_retention_the_sql_store_deletes_nothing_itself(set_env, tmp_path):
    """The scaled stack's store (endpoints.scaled.yml gives no retention): the purge's job."""
    set_env(CONVERSATIONS_DB=str(tmp_path / "conversations.db"), CONVERSATION_RETENTION="1d")
    clock = Clock()
    store = BoundedSQLTrackerStore(DOMAIN, clock=clock)
    asyncio.run(store.save(conversation("old", at=clock.now - 90 * DAY)))
    assert store.retention is None and store.sweep() == 0
    assert senders(store) == {"old"}
    store.engine.dispose()


# -- the in-memory store, which an installation may choose instead ----------------------------


def memory_endpoints(tmp_path):
    """endpoints.yml with its commented alternative put in place of its tracker store, as its
    comment tells an operator to do."""
    lines = ENDPOINTS_FILE.read_text(encoding="utf-8").splitlines()
    start = lines.index("tracker_store:")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  "))
    alternative = [
        re.sub(r"^# ", "", line)
        for line in lines[end:]
        if re.match(r"^# (tracker_store:|  \S)", line)
    ]
    path = tmp_path / "endpoints.yml"
    path.write_text("\n".join(lines[:start] + alternative) + "\n", encoding="utf-8")
    return path


def test_the_memory_store_named_in_endpoints_yml_instead(set_env, tmp_path):
    set_env(CONVERSATION_RETENTION=None)
    path = memory_endpoints(tmp_path)
    store = from_endpoints(path)
    assert isinstance(store, RetainingInMemoryTrackerStore)
    assert store.retention.days == 30
    assert embedded_tracker_url(path) is None  # the purge and erasure go through Rasa's API


def test_conversations_idle_past_the_retention_period_are_forgotten(set_env):
    set_env(CONVERSATION_RETENTION=None)
    clock = Clock()
    store = RetainingInMemoryTrackerStore(DOMAIN, retention="30d", clock=clock)
    asyncio.run(store.save(conversation("old")))
    clock.now += 20 * DAY
    asyncio.run(store.save(conversation("recent")))
    clock.now += 11 * DAY  # "old" idle 31 days, "recent" 11
    asyncio.run(store.save(conversation("new")))  # a save sweeps (more than 10 minutes passed)
    assert set(store.store) == {"recent", "new"}
    assert asyncio.run(store.retrieve("old")) is None
    assert asyncio.run(store.retrieve("recent")) is not None


def test_a_returning_visitor_keeps_the_conversation_and_sweeps_are_spaced(set_env):
    set_env(CONVERSATION_RETENTION="1d")
    clock = Clock()
    store = RetainingInMemoryTrackerStore(DOMAIN, clock=clock)
    asyncio.run(store.save(conversation("visitor")))
    clock.now += 0.9 * DAY
    asyncio.run(store.save(conversation("visitor")))  # came back: idle time starts again
    clock.now += 0.9 * DAY
    assert store.sweep() == 0 and "visitor" in store.store
    clock.now += 0.2 * DAY
    asyncio.run(store.save(conversation("other")))  # swept: "visitor" idle 1.1 days
    assert "visitor" not in store.store
    clock.now += 2 * DAY
    store._last_sweep = clock.now
    asyncio.run(store.save(conversation("third")))  # within the sweep interval: no sweep
    assert "other" in store.store and SWEEP_EVERY_SECONDS > 0
