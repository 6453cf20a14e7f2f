"""`POST /api/fulfilment/callback`: a system's later word on a task it accepted with a 202.

The system signs the raw body with its webhook secret, as we sign what we send it. The
signature is checked first, against each webhook system's secret, so that nobody without a
secret learns whether a task id exists; then the body, then the task (it must be that system's),
then its state: a task settled already is refused with 409 and nothing changes, which makes a
replayed callback harmless. Every refusal is logged with its reason and the system's name,
never with the body (it may name the requester).
"""

from __future__ import annotations

import asyncio
import logging
from typing import List, Optional

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.fulfilment import contract, signing
from bot.fulfilment.service import FulfilmentError
from bot.requests.systems import System, systems
from bot.services import Services

log = logging.getLogger(__name__)

CALLBACK_PATH = "/api/fulfilment/callback"


class TooLarge(ValueError):
    pass


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, refused past `limit` bytes before it is all read."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def signed_by(body: bytes, header: Optional[str]) -> Optional[System]:
    """The webhook system whose secret signed `body`, if any."""
    for system in systems():
        secret = system.secret()
        if system.webhook_url and secret and signing.verify(body, header, secret):
            return system
    return None


def _refused(status: int, reason: str, system: str = "-") -> JSONResponse:
    log.warning("Fulfilment callback refused (%s): %s, system %s", status, reason, system)
    return JSONResponse({"error": reason}, status_code=status)


def routes(services: Services) -> List[Route]:
    async def callback(request: Request) -> JSONResponse:
        try:
            body = await read_capped(request, contract.MAX_BODY_BYTES)
        except TooLarge:
            return _refused(413, "too_large")
        system = signed_by(body, request.headers.get(signing.SIGNATURE_HEADER))
        if system is None:
            return _refused(401, "bad_signature")
        try:
            said = contract.read_callback(body)
        except contract.BadCallback as problem:
            return _refused(400, problem.reason, system.name)
        found = await asyncio.to_thread(services.fulfilment.task, said.task_id)
        if found is None or found.system != system.name:
            return _refused(404, "unknown_task", system.name)
        outcome = said.outcome
        export = (
            (outcome.export_file.filename, outcome.export_file.content)
            if outcome.export_file is not None
            else None
        )
        try:
            view = await asyncio.to_thread(
                services.fulfilment.answered,
                said.task_id,
                outcome.status,
                outcome.detail,
                export,
                outcome.export_url,
                "callback",
            )
        except FulfilmentError as problem:
            status = 422 if problem.code == "bad_export" else 409
            return _refused(status, problem.code, system.name)
        return JSONResponse({"status": "applied", "state": view.state})

    return [Route(CALLBACK_PATH, callback, methods=["POST"])]
