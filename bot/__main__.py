"""`python -m bot ...`: the project's command line (declared in `bot.cli.main`).

Whatever a command creates (var/, the request database, .env, logs, the servers `run` starts
and what they write) is its owner's alone: the umask is 077 (bot.core.private_files).
"""

from __future__ import annotations

from bot.cli.main import main
from bot.core.private_files import keep_private

__all__ = ["main"]

if __name__ == "__main__":
    keep_private()
    raise SystemExit(main())
