"""`python -m bot purge --older-than 30d [--dry-run]`: apply the retention period.

Meant for a daily cron job: it prints what it removed, and exits 1 when something is left to do
(the tracker store unreachable, an erasure still pending) so that the job's owner hears of it.
The arguments are parsed by `bot.cli.main` (a bad `--older-than` is its message and exit 2).
"""

from __future__ import annotations

from datetime import timedelta

from bot.retention.purge import describe, purge
from bot.services import Services


def run(older_than: timedelta, dry_run: bool) -> int:
    """Purge, print what was done, and say by the exit status whether anything is left."""
    services = Services()
    try:
        report = purge(
            older_than, engine=services.store.engine, gaps=services.gaps, dry_run=dry_run
        )
    finally:
        services.store.engine.dispose()
    for line in describe(report):
        print(line)
    return 0 if report.ok else 1
