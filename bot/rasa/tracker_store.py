"""Rasa's in-memory tracker store with a retention period: the embedded default.

Rasa keeps every conversation of its in-memory store for as long as the process runs, which on
a server that is rarely restarted means forever. This store forgets a conversation once nobody
has written to it for the retention period (30 days unless `retention` in endpoints.yml or
`CONVERSATION_RETENTION` says otherwise), checked as conversations are saved. The SQL tracker
store of the scaled setup is purged by `python -m bot purge` instead (bot/retention.py).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, Optional

from rasa.core.tracker_store import InMemoryTrackerStore

from bot.core.settings import load_settings
from bot.retention.ages import parse_age

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 600.0


class RetainingInMemoryTrackerStore(InMemoryTrackerStore):
    def __init__(
        self,
        domain: Any,
        event_broker: Optional[Any] = None,
        retention: str = "30d",
        host: Optional[str] = None,
        clock: Any = time.time,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain, event_broker, **kwargs)
        self.retention = parse_age(load_settings().conversation_retention or str(retention))
        self.clock = clock
        self.last_active: Dict[str, float] = {}
        self._last_sweep = self.clock()

    async def save(self, tracker: Any) -> None:
        await super().save(tracker)
        now = self.clock()
        self.last_active[tracker.sender_id] = now
        if now - self._last_sweep >= SWEEP_EVERY_SECONDS:
            self.sweep(now)

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
