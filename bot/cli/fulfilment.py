"""`python -m bot fulfilment start|deliver|show`: the desk's start, the worker's round, and a
request's tasks, from the command line."""

from __future__ import annotations

import json
import sys

from bot.requests.lifecycle import IllegalTransition
from bot.requests.store import UnknownRequest


def start(reference: str, actor: str) -> int:
    """What the desk's "start" does: in progress, one task per system, the requester told."""
    from bot.services import Services

    try:
        made = Services().fulfilment.start(reference, actor)
    except UnknownRequest:
        print(f"No request {reference}", file=sys.stderr)
        return 1
    except IllegalTransition as problem:
        print(f"{reference} not started: {problem}", file=sys.stderr)
        return 1
    print(
        f"==> {reference} is in progress; tasks: "
        + (
            ", ".join(f"{task.system} ({task.reach}, {task.state})" for task in made)
            or "none (no system takes this kind: close it by hand)"
        )
    )
    return 0


def deliver() -> int:
    """One round of the webhook worker: every task due now."""
    from bot.fulfilment.webhooks import deliver_round
    from bot.services import Services

    print(f"==> Delivered: {deliver_round(Services().fulfilment)}")
    return 0


def show(reference: str, fmt: str) -> int:
    from bot.services import Services

    try:
        found = Services().fulfilment.tasks(reference)
    except UnknownRequest:
        print(f"No request {reference}", file=sys.stderr)
        return 1
    if fmt == "json":
        json.dump([task.as_json() for task in found], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    for task in found:
        error = f"; last error: {task.last_error}" if task.last_error else ""
        print(f"{task.system:<16} {task.reach:<8} {task.state:<15} attempts {task.attempts}{error}")
    return 0
