"""One delivery round of webhook tasks: what the web app's worker runs every few seconds, and
`python -m bot fulfilment deliver` once.

Each due task is claimed (bot.fulfilment.service), signed and POSTed; the answer settles it
(200 done / failed), leaves it sent (202, the system calls back), or counts as a failed attempt
(no answer, a non-2xx status, a body that is not the contract's) to be tried again after a
backoff. An access export the system pointed to by URL is fetched here, with the same
signature over an empty body, so the system can tell who asks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Dict, Optional
from urllib.parse import urlsplit

import httpx

from bot.core.settings import load_settings
from bot.fulfilment import contract, signing
from bot.fulfilment.service import Claimed, Fulfilment, FulfilmentError

log = logging.getLogger(__name__)

ROUND_LIMIT = 50  # tasks a round takes on; the next round takes the rest


@dataclass
class Round:
    """What one round did, by outcome: "done", "failed", "sent" (202), "retry" (an attempt that
    will be repeated or has run out), "fetched" (an export)."""

    counts: Dict[str, int] = field(default_factory=dict)

    def add(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def __str__(self) -> str:
        return ", ".join(f"{n} {what}" for what, n in sorted(self.counts.items())) or "nothing due"


def order_of(claimed: Claimed) -> contract.TaskOrder:
    return contract.TaskOrder(
        task_id=claimed.task_id,
        reference=claimed.reference,
        kind=claimed.kind,
        email=claimed.email,
        details=claimed.details,
        requested_at=claimed.requested_at,
        due=claimed.due,
        callback_url=load_settings().fulfilment_callback_url,
    )


def _headers(body: bytes, secret: str, task_id: str) -> Dict[str, str]:
    return {
        "Content-Type": "application/json",
        signing.SIGNATURE_HEADER: signing.sign(body, secret),
        signing.IDEMPOTENCY_HEADER: task_id,
    }


def _failure(error: BaseException) -> str:
    """What went wrong, for the task's last error: the kind of failure, never a body."""
    if isinstance(error, httpx.HTTPStatusError):
        return f"HTTP {error.response.status_code}"
    if isinstance(error, contract.BadAnswer):
        return f"answer not understood ({error.reason})"
    return f"no answer ({type(error).__name__})"


def deliver_one(fulfilment: Fulfilment, claimed: Claimed, client: httpx.Client) -> str:
    secret = claimed.system.secret()
    if not secret:
        fulfilment.attempt_failed(claimed.task_id, f"no secret in {claimed.system.secret_env}")
        return "retry"
    try:
        if claimed.export_url:
            return _fetch_export(fulfilment, claimed, client, secret)
        sent_at = fulfilment.clock()
        body = contract.request_body(order_of(claimed), sent_at)
        response = client.post(
            str(claimed.system.webhook_url),
            content=body,
            headers=_headers(body, secret, claimed.task_id),
        )
        outcome = contract.read_answer(response.status_code, response.content)
    except (httpx.HTTPError, contract.BadAnswer) as error:
        fulfilment.attempt_failed(claimed.task_id, _failure(error))
        return "retry"
    export = (
        (outcome.export_file.filename, outcome.export_file.content)
        if outcome.export_file is not None
        else None
    )
    try:
        view = fulfilment.answered(
            claimed.task_id, outcome.status, outcome.detail, export, outcome.export_url
        )
    except FulfilmentError as problem:  # settled meanwhile by a callback: nothing to do
        log.info("Answer of %s for a task not waiting: %s", claimed.system.name, problem.code)
        return "ignored"
    return view.state


def _fetch_export(
    fulfilment: Fulfilment, claimed: Claimed, client: httpx.Client, secret: str
) -> str:
    url = str(claimed.export_url)
    response = client.get(url, headers=_headers(b"", secret, claimed.task_id))
    response.raise_for_status()
    name = urlsplit(url).path.rsplit("/", 1)[-1] or "export"
    filename = name if "." in name else f"{claimed.reference}-{claimed.system.name}.json"
    fulfilment.export_fetched(claimed.task_id, filename, response.content)
    return "fetched"


def deliver_round(
    fulfilment: Fulfilment, client: Optional[httpx.Client] = None, limit: int = ROUND_LIMIT
) -> Round:
    """Deliver every task due now (at most `limit`)."""
    done = Round()
    timeout = load_settings().fulfilment_timeout_seconds
    own = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=False)
    try:
        for claimed in fulfilment.claim_due(limit):
            try:
                done.add(deliver_one(fulfilment, claimed, http))
            except Exception as error:  # noqa: BLE001 - one task's failure stops no other
                log.warning(
                    "Delivering a task to %s failed: %s", claimed.system.name, type(error).__name__
                )
                fulfilment.attempt_failed(claimed.task_id, _failure(error))
                done.add("retry")
    finally:
        if own:
            http.close()
    return done
