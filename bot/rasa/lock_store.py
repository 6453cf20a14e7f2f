"""The conversation lock of the scaled setup: Rasa's Redis lock, first come first served, in two
round trips to Redis instead of seven.

Rasa's `RedisLockStore` keeps a conversation's tickets as one JSON value that each process reads,
changes and writes back (issue a ticket, check it, finish, check for waiters, delete: seven
commands a message, and two processes issuing tickets at once can both read the old value), and
a message that has to wait sleeps a whole second between checks. Here the tickets are a Redis
list, changed only by scripts that run atomically on the server: joining the queue answers
whether this message is first, leaving removes it; a waiting message checks again every 20 ms.
A ticket carries its deadline (Rasa's lock lifetime), so the queue moves past a process that
died holding it, as Rasa's lock does.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Optional

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

POLL_SECONDS = 0.02

# Drops tickets whose deadline has passed from the head of the queue (never our own), then says
# whether ours is first (1), not yet (0), or no longer queued (-1: the queue outlived its
# lifetime). KEYS[1]: the queue; ARGV: our ticket, 1 to join first, the lifetime in ms.
_TURN = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if ARGV[2] == '1' then
  redis.call('RPUSH', KEYS[1], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then return -1 end
  if head == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return 1
  end
  local deadline = tonumber(string.match(head, ':(%d+)$'))
  if deadline and deadline < now_ms then
    redis.call('LPOP', KEYS[1])
  else
    return 0
  end
end
"""
_LEAVE = """
redis.call('LREM', KEYS[1], 1, ARGV[1])
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) end
return 1
"""


class QueuedRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        """Rasa builds a lock store named by its module path from endpoints.yml's
        `lock_store` section (`endpoint_config`), whose `url` is Redis's host."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self._turn = self.red.register_script(_TURN)
        self._leave = self.red.register_script(_LEAVE)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = POLL_SECONDS,
    ) -> AsyncIterator[TicketLock]:
        key = f"{self.key_prefix}queue:{conversation_id}"
        lifetime_ms = int(lock_lifetime * 1000)
        deadline = time.time() + lock_lifetime
        ticket = f"{uuid.uuid4().hex}:{int(deadline * 1000)}"
        try:
            turn = self._turn(keys=[key], args=[ticket, 1, lifetime_ms])
        except Exception as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
        try:
            while turn != 1:
                if time.time() > deadline:
                    raise LockError(
                        f"Could not acquire lock for conversation_id '{conversation_id}'."
                    )
                await asyncio.sleep(min(wait_time_in_seconds, POLL_SECONDS))
                rejoin = 1 if turn == -1 else 0
                turn = self._turn(keys=[key], args=[ticket, rejoin, lifetime_ms])
            yield TicketLock(conversation_id)
        finally:
            self._leave(keys=[key], args=[ticket])
