"""The action server's services (bot.services): built from the settings on first use, unless
another set has been installed (a test's, on its own database)."""

from __future__ import annotations

from typing import Optional

from bot.services import Services

_installed: Optional[Services] = None


def services() -> Services:
    """The services every action works with."""
    global _installed
    if _installed is None:
        _installed = Services()
    return _installed


def install(replacement: Optional[Services]) -> None:
    """Serve `replacement` from now on; None: build them from the settings on next use."""
    global _installed
    _installed = replacement
