"""`python -m bot purge --older-than 30d [--dry-run]`: apply the retention period.

Meant for a daily cron job: it prints what it removed, and exits 1 when something is left to do
(the tracker store unreachable, an erasure still pending) so that the job's owner hears of it.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import List

from bot.retention.purge import AGE_HELP, describe, parse_age, purge


def _age(text: str) -> timedelta:
    try:
        return parse_age(text)
    except ValueError as problem:
        raise argparse.ArgumentTypeError(str(problem)) from None


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot purge",
        description="Remove chat data older than the retention period: conversations in the SQL "
        "tracker store, expired verification codes, delivered e-mails, transcripts of closed "
        "requests and handoffs, policy gaps and answer ratings. Requests, their history and the "
        "audit log are kept.")
    parser.add_argument("--older-than", required=True, type=_age, metavar="AGE",
                        help=f"the retention period: {AGE_HELP}")
    parser.add_argument("--dry-run", action="store_true",
                        help="count what would be removed, and remove nothing")
    args = parser.parse_args(argv)  # a bad --older-than: message and exit code 2
    report = purge(args.older_than, dry_run=args.dry_run)
    for line in describe(report):
        print(line)
    return 0 if report.ok else 1
