"""How long a conversation may sit idle before it ends.

Rasa's `session_config.session_expiration_time` in domain.yml (minutes) is the one place this
is said: Rasa starts a new session after it, the web app's conversation cookie lasts that long
past the visitor's last message (bot.web.visitor), and the chat page, told it by the server,
wipes what it kept of the chat once it has passed.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from pathlib import Path

import yaml

from bot.core.paths import DOMAIN_FILE


@functools.cache
def conversation_idle_expiry(path: Path = DOMAIN_FILE) -> timedelta:
    """domain.yml's session expiration time. A domain without a positive one is refused rather
    than guessed: the cookie and the page's stored chat must end with Rasa's session."""
    domain = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config = domain.get("session_config") if isinstance(domain, dict) else None
    minutes = config.get("session_expiration_time") if isinstance(config, dict) else None
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes <= 0:
        raise ValueError(
            f"{path.name}: session_config.session_expiration_time must be a positive number of "
            f"minutes, not {minutes!r}"
        )
    return timedelta(minutes=minutes)
