"""The webhook worker: delivers fulfilment tasks from the web app, in one process at a time.

Like the outbox worker (bot.mail.worker): every web process starts it, only the holder of the
"webhooks" worker lock delivers, and the claim with a lease on each task keeps two deliverers
(a lock lost mid-round) from sending one task at once.
"""

from __future__ import annotations

from typing import Optional

from bot.core.settings import load_settings
from bot.fulfilment.service import Fulfilment
from bot.fulfilment.webhooks import deliver_round
from bot.storage.worker_lock import WorkerLock, work_while_holding, worker_lock

WEBHOOK_WORKER = "webhooks"


async def deliver_webhooks_forever(
    fulfilment: Fulfilment,
    interval: Optional[float] = None,
    *,
    lock: Optional[WorkerLock] = None,
) -> None:
    await work_while_holding(
        lock or worker_lock(WEBHOOK_WORKER),
        lambda: deliver_round(fulfilment),
        interval if interval is not None else load_settings().fulfilment_interval_seconds,
    )
