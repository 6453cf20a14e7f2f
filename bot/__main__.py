"""`python -m bot ...`: the project's command line (declared in `bot.cli.main`)."""

from __future__ import annotations

from bot.cli.main import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
