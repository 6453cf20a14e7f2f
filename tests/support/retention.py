"""Retention and erasure, shared by tests/unit/test_retention.py and
tests/db/test_sql_tracker_retention.py: the request store wired with bot.retention's eraser,
completing a request, and `python -m bot purge` run as a user runs it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

from bot.core.paths import ROOT
from bot.requests import lifecycle
from bot.requests.store import RequestStore
from bot.retention import erasure
from bot.retention.trackers import TRACKER_DB_KEYS
from bot.storage.db import make_engine
from tests.support import Clock

DAY = timedelta(days=1)
TRANSCRIPT = [{"from": "visitor", "text": "please delete my account", "at": "2026-11-01"}]


def erasing_store(database_url):
    """Wired as the web app and the action server wire theirs: with bot.retention's eraser."""
    return RequestStore(
        make_engine(database_url),
        secret="test-secret",
        working_days=15,
        clock=Clock(),
        eraser=erasure.erase_requester_conversations,
    )


def complete(store, reference):
    store.transition(reference, lifecycle.IN_PROGRESS, "legal:ann")
    return store.transition(reference, lifecycle.COMPLETED, "legal:ann", "account deleted")


def run_purge(database_url, *args, **env):
    full = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PYTHONWARNINGS": "ignore",
        "RASA_URL": "http://127.0.0.1:9",
        "TRACKER_STORE_URL": "",
        **{key: "" for key in TRACKER_DB_KEYS},
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "purge", *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


def save_conversation(store, sender_id, *moments):
    """A real tracker, a visitor's line and the bot's answer at each moment, saved by the
    tracker store `store` as Rasa saves it; how many events that was."""
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = []
    for moment in moments:
        stamp = moment.timestamp()
        events += [
            UserUttered("hello, my address is jane@example.com", timestamp=stamp),
            BotUttered("Hello! How can I help?", timestamp=stamp + 1),
        ]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender_id, events)))
    return len(events)
