"""The one place the request database's services are built: the request store, casework,
deliveries, fulfilment, the staff directory, handoffs and the policy-gap log.

Each process builds one `Services` (the action server on first use, the web app in its factory,
a CLI command when it runs) and takes them all from it; a test hands in a store of its own. It
sits above bot.retention because the store it serves erases a requester's conversations when
their deletion is completed, with bot.retention's eraser.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Optional

from bot.fulfilment.service import Fulfilment
from bot.policy.gaps import GapLog
from bot.requests.casework import Casework
from bot.requests.delivery import Deliveries
from bot.requests.store import RequestStore
from bot.retention.erasure import erase_requester_conversations
from bot.staff.accounts import StaffDirectory
from bot.support.tickets import Handoffs


class Services:
    """Every service on one database (the store's engine), each opened on first use; casework
    and deliveries keep the store's clock. Without a store, the store is built from the
    settings, with the eraser that completing a deletion runs."""

    def __init__(self, store: Optional[RequestStore] = None) -> None:
        self._store = store

    @functools.cached_property
    def store(self) -> RequestStore:
        return self._store or RequestStore(eraser=erase_requester_conversations)

    def now(self) -> datetime:
        """The store's clock, read at every call, so that what shares it keeps to it."""
        return self.store.clock()

    @functools.cached_property
    def casework(self) -> Casework:
        return Casework(self.store.engine, self.now)

    @functools.cached_property
    def deliveries(self) -> Deliveries:
        return Deliveries(self.store.engine, self.store.secret, self.now)

    @functools.cached_property
    def fulfilment(self) -> Fulfilment:
        return Fulfilment(self.store, self.deliveries, self.now)

    @functools.cached_property
    def directory(self) -> StaffDirectory:
        return StaffDirectory(self.store.engine)

    @functools.cached_property
    def handoffs(self) -> Handoffs:
        return Handoffs(self.store.engine)

    @functools.cached_property
    def gaps(self) -> GapLog:
        return GapLog(self.store.engine)
