"""The action server's request store, casework, staff directory, handoffs and policy-gap log,
opened on first use."""

from __future__ import annotations

from functools import lru_cache

from bot.policy.gaps import GapLog
from bot.requests.casework import Casework
from bot.requests.store import RequestStore
from bot.retention.erasure import erase_requester_conversations
from bot.staff.accounts import StaffDirectory
from bot.support.tickets import Handoffs


@lru_cache(maxsize=1)
def get_store() -> RequestStore:
    return RequestStore(eraser=erase_requester_conversations)


@lru_cache(maxsize=1)
def get_casework() -> Casework:
    return Casework(get_store().engine)


@lru_cache(maxsize=1)
def get_staff() -> StaffDirectory:
    return StaffDirectory(get_store().engine)


@lru_cache(maxsize=1)
def get_handoffs() -> Handoffs:
    return Handoffs(get_store().engine)


@lru_cache(maxsize=1)
def get_gaps() -> GapLog:
    return GapLog(get_store().engine)
