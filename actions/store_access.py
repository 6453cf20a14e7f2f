"""The action server's one request store, opened on first use."""

from __future__ import annotations

from functools import lru_cache

from bot.store import RequestStore


@lru_cache(maxsize=1)
def get_store() -> RequestStore:
    return RequestStore()
