"""The scaled setup's conversation lock (bot/rasa/lock_store.py): one message of a conversation
at a time, in the order they came, in two round trips to Redis, past a holder that died."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.rasa.lock_store import QueuedRedisLockStore
from tests.support.live import answers

pytestmark = pytest.mark.skipif(
    not answers("127.0.0.1", 6379),
    reason="Redis does not answer on 127.0.0.1:6379 (.ci/run starts it)",
)


@pytest.fixture
def store():
    made = QueuedRedisLockStore(host="127.0.0.1", port=6379, db=3, key_prefix="locktest")
    yield made
    for key in made.red.scan_iter("locktest:*"):
        made.red.delete(key)


def test_messages_of_one_conversation_go_one_at_a_time_in_order(store):
    conversation = uuid.uuid4().hex
    inside, order, most = [0], [], [0]

    async def message(number: int) -> None:
        await asyncio.sleep(number * 0.005)  # arrive in this order
        async with store.lock(conversation):
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            order.append(number)
            await asyncio.sleep(0.01)
            inside[0] -= 1

    async def all_of_them() -> None:
        await asyncio.gather(*(message(n) for n in range(8)))

    asyncio.run(all_of_them())
    assert most[0] == 1
    assert order == list(range(8))
    assert not store.red.exists(f"{store.key_prefix}queue:{conversation}")  # nothing left behind


def test_other_conversations_do_not_wait(store):
    async def both() -> float:
        async with store.lock("first-" + uuid.uuid4().hex):
            loop = asyncio.get_running_loop()
            started = loop.time()
            async with store.lock("second-" + uuid.uuid4().hex):
                return loop.time() - started

    assert asyncio.run(both()) < 0.05


def test_a_holder_that_died_is_passed_once_its_lifetime_is_over(store):
    conversation = uuid.uuid4().hex
    key = f"{store.key_prefix}queue:{conversation}"
    store.red.rpush(key, "dead-process:1000")  # a ticket whose deadline passed long ago

    async def message() -> bool:
        async with store.lock(conversation, lock_lifetime=5):
            return True

    assert asyncio.run(asyncio.wait_for(message(), timeout=2))


def test_an_uncontended_message_costs_two_round_trips(store):
    calls = []
    original = store.red.execute_command

    def counted(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    store.red.execute_command = counted

    async def message() -> None:
        async with store.lock(uuid.uuid4().hex):
            pass

    asyncio.run(message())  # the scripts are loaded on first use
    calls.clear()
    asyncio.run(message())
    assert calls == ["EVALSHA", "EVALSHA"]


def test_rasa_builds_it_from_the_scaled_endpoints(set_env):
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import read_endpoint_config

    from bot.core.paths import ROOT

    set_env(REDIS_HOST="127.0.0.1", REDIS_PORT="6379", REDIS_DB="3", ACTION_ENDPOINT_URL="http://a")
    set_env(TRACKER_DB_HOST="h", TRACKER_DB_PORT="5432", TRACKER_DB_NAME="t")
    set_env(TRACKER_DB_USER="u", TRACKER_DB_PASSWORD="p")
    config = read_endpoint_config(str(ROOT / "endpoints.scaled.yml"), "lock_store")
    store = LockStore.create(config)
    assert isinstance(store, QueuedRedisLockStore)
    assert store.key_prefix.startswith("videopro:")
