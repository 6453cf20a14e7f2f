"""The embedded tracker store forgets idle conversations (bot/tracker_store.py)."""

import asyncio

from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.core.paths import ROOT
from bot.rasa.tracker_store import SWEEP_EVERY_SECONDS, RetainingInMemoryTrackerStore

DOMAIN = Domain.load(str(ROOT / "domain.yml"))
DAY = 86400.0


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


def conversation(sender):
    return DialogueStateTracker.from_events(sender, [UserUttered("my e-mail is a@b.co")])


def test_rasa_builds_it_from_endpoints_yml():
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    store = TrackerStore.create(config, DOMAIN)
    assert isinstance(store, RetainingInMemoryTrackerStore)
    assert store.retention.days == 30


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
