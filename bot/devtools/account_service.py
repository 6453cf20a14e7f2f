"""A stand-in for the product's account service, the far end of a fulfilment webhook, for tests
and demonstrations: it keeps accounts in memory and carries out the tasks it is sent the way
docs/fulfilment.md asks a real system to.

It checks our signature (401 otherwise) and the body against the published schema (400), and
keys what it does on the Idempotency-Key: a task it has done is answered again with the same
outcome and never applied a second time. A failed task is tried afresh when it comes again,
since nothing was applied and the cause (an account that did not exist yet) may be gone by the
time staff send it again. Every effect applied is appended to `service.effects`
(`app.state.effects` is the same list), so that a test can count them.

Modes (`service.mode`, or `POST /admin/mode {"mode": ...}`; no authentication, this is a test
tool): "now" answers 200 with the outcome; "later" answers 202 and, after `callback_delay`
seconds, POSTs the signed outcome to the task's `callback_url`; "down" answers 503 and does
nothing. An access export comes back as a file in the body (`export="file"`) or as an
`export_url` this service serves at `GET /exports/<token>` (`export="url"`).

    python -m bot.devtools.account_service --port 9917 --secret-env ACCOUNTS_WEBHOOK_SECRET \\
        --mode now|later|down [--export file|url]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

import httpx
import jsonschema
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.fulfilment import contract, signing

MODES = ("now", "later", "down")
EXPORTS = ("file", "url")
WEBHOOK_PATH = "/privacy"
NO_ACCOUNT = "no account for that address"
# The fields a correction may change: the `item` a correction request stores
# (bot.requests.validators.CORRECTABLE).
CORRECTABLE = ("name", "email", "phone", "wechat", "alipay", "other")

SEED_ACCOUNTS: Sequence[Mapping[str, Any]] = (
    {"email": "ada@example.com", "name": "Ada Lovelace", "phone": "+44 20 7946 0000"},
    {"email": "li.wei@example.cn", "name": "李伟", "phone": "13800138000", "wechat": "liwei_88"},
    {"email": "sam@example.org", "name": "Sam Taylor", "alipay": "sam@example.org"},
)


def new_account(values: Mapping[str, Any]) -> Dict[str, Any]:
    """An account with every field a task may touch; `values` must name an `email`."""
    email = str(values["email"]).strip().lower()
    account: Dict[str, Any] = {name: "" for name in CORRECTABLE}
    account.update(marketing=True, suspended=False, erased_items=[])
    account.update({key: value for key, value in values.items() if key != "email"})
    account["email"] = email
    return account


@dataclass(frozen=True)
class Effect:
    """One change the service made: what a test counts to prove nothing was applied twice."""

    task_id: str
    kind: str
    email: str
    what: str


@dataclass
class AccountService:
    secret: str
    mode: str = "now"
    callback_secret: Optional[str] = None
    export: str = "file"
    callback_delay: float = 0.2
    accounts: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    effects: List[Effect] = field(default_factory=list)
    done: Dict[str, Dict[str, Any]] = field(default_factory=dict)  # task_id -> its outcome
    exports: Dict[str, bytes] = field(default_factory=dict)  # token -> JSON
    callbacks: List[Dict[str, Any]] = field(default_factory=list)  # what each callback got

    def add(self, values: Mapping[str, Any]) -> Dict[str, Any]:
        account = new_account(values)
        self.accounts[account["email"]] = account
        return account

    def carry_out(self, task: Mapping[str, Any], base_url: str) -> Dict[str, Any]:
        """The outcome of `task` (the callback's keys without task_id), applying its effect
        once: a task done before is answered from memory."""
        task_id = task["task_id"]
        if task_id in self.done:
            return self.done[task_id]
        email = task["email"].strip().lower()
        account = self.accounts.get(email)
        if account is None:
            return {"status": "failed", "detail": NO_ACCOUNT}
        handler = getattr(self, f"_{task['kind']}", None)
        if handler is None:
            return {"status": "failed", "detail": f"this service does not handle {task['kind']}"}
        outcome, what = handler(account, task["details"], task, base_url)
        if outcome["status"] == "done":
            self.effects.append(Effect(task_id, task["kind"], email, what))
            self.done[task_id] = outcome
        return outcome

    # One method per kind: (account, details, task, base_url) -> (outcome, what was done).

    def _deletion(self, account: Dict[str, Any], details: Mapping[str, str], *_: Any) -> Any:
        if details.get("scope") == "specific":
            account["erased_items"].append(details.get("items", ""))
            return {"status": "done", "detail": "the listed items were deleted"}, "erased items"
        del self.accounts[account["email"]]
        return {"status": "done", "detail": "the account was deleted"}, "deleted"

    def _correction(self, account: Dict[str, Any], details: Mapping[str, str], *_: Any) -> Any:
        item, value = details.get("item", "other"), details.get("new_value", "")
        if item not in CORRECTABLE or not value.strip():
            return {"status": "failed", "detail": "nothing to correct: no known item or value"}, ""
        if item == "email":
            value = value.strip().lower()
            if value in self.accounts and value != account["email"]:
                return {"status": "failed", "detail": "that address has an account already"}, ""
            del self.accounts[account["email"]]
            self.accounts[value] = account
        account[item] = value
        return {"status": "done", "detail": f"{item} corrected"}, f"corrected {item}"

    def _suspension(self, account: Dict[str, Any], *_: Any) -> Any:
        account["suspended"] = True
        return {"status": "done", "detail": "the account was suspended"}, "suspended"

    def _unsubscribe(self, account: Dict[str, Any], *_: Any) -> Any:
        account["marketing"] = False
        return {"status": "done", "detail": "no more promotional e-mail"}, "unsubscribed"

    def _access(
        self, account: Dict[str, Any], details: Mapping[str, str], task: Any, base_url: str
    ) -> Any:
        content = json.dumps(account, ensure_ascii=False, indent=2, sort_keys=True).encode()
        outcome: Dict[str, Any] = {"status": "done", "detail": "the account's data"}
        if self.export == "url":
            token = secrets.token_urlsafe(16)
            self.exports[token] = content
            outcome["export_url"] = f"{base_url.rstrip('/')}/exports/{token}"
        else:
            outcome["export"] = {
                "filename": f"{task['reference']}.json",
                "content_base64": base64.b64encode(content).decode("ascii"),
            }
        return outcome, "exported"

    async def call_back(self, task: Mapping[str, Any], outcome: Mapping[str, Any]) -> None:
        """POST the outcome to the task's callback URL, signed; what came back is kept."""
        await asyncio.sleep(self.callback_delay)
        body = _json({"task_id": task["task_id"], **outcome})
        headers = {
            signing.SIGNATURE_HEADER: signing.sign(body, self.callback_secret or self.secret),
            "Content-Type": "application/json",
        }
        record: Dict[str, Any] = {"task_id": task["task_id"], "url": task["callback_url"]}
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.post(task["callback_url"], content=body, headers=headers)
            record["status_code"] = answer.status_code
        except httpx.HTTPError as problem:
            record["error"] = type(problem).__name__
        self.callbacks.append(record)


def _json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _error(status_code: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status_code)


def make_app(
    secret: str,
    *,
    mode: str = "now",
    callback_secret: Optional[str] = None,
    accounts: Optional[Iterable[Mapping[str, Any]]] = None,
    export: str = "file",
    callback_delay: float = 0.2,
) -> Starlette:
    """The service's app; `accounts` replaces the seeded ones (`SEED_ACCOUNTS`). The state is
    `app.state.service` (an `AccountService`)."""
    if mode not in MODES or export not in EXPORTS:
        raise ValueError(f"mode is one of {MODES} and export one of {EXPORTS}")
    service = AccountService(
        secret=secret,
        mode=mode,
        callback_secret=callback_secret,
        export=export,
        callback_delay=callback_delay,
    )
    for values in SEED_ACCOUNTS if accounts is None else accounts:
        service.add(values)
    schema = jsonschema.Draft202012Validator(contract.load_schema(contract.TASK_REQUEST_SCHEMA))

    async def task(request: Request) -> Response:
        if service.mode == "down":
            return _error(503, "down")
        body = await request.body()
        if not signing.verify(body, request.headers.get(signing.SIGNATURE_HEADER), secret):
            return _error(401, "bad_signature")
        try:
            data = json.loads(body)
        except ValueError:
            return _error(400, "not_json")
        if not isinstance(data, dict) or not schema.is_valid(data):
            return _error(400, "not_a_task")
        if request.headers.get(signing.IDEMPOTENCY_HEADER) != data["task_id"]:
            return _error(400, "idempotency_key")
        outcome = service.carry_out(data, str(request.base_url))
        if service.mode == "later":
            return Response(
                status_code=202, background=BackgroundTask(service.call_back, data, outcome)
            )
        return JSONResponse(outcome)

    async def export_file(request: Request) -> Response:
        content = service.exports.get(request.path_params["token"])
        if content is None:
            return _error(404, "no_export")
        return Response(content, media_type="application/json")

    async def set_mode(request: Request) -> Response:
        wanted = (await request.json()).get("mode")
        if wanted not in MODES:
            return _error(400, "unknown_mode")
        service.mode = wanted
        return JSONResponse({"mode": wanted})

    async def add_account(request: Request) -> Response:
        values = await request.json()
        if not isinstance(values, dict) or not str(values.get("email", "")).strip():
            return _error(400, "no_email")
        return JSONResponse(service.add(values), status_code=201)

    async def state(request: Request) -> Response:
        return JSONResponse(
            {
                "mode": service.mode,
                "accounts": copy.deepcopy(service.accounts),
                "effects": [effect.__dict__ for effect in service.effects],
                "callbacks": service.callbacks,
            }
        )

    app = Starlette(
        routes=[
            Route(WEBHOOK_PATH, task, methods=["POST"]),
            Route("/exports/{token}", export_file, methods=["GET"]),
            Route("/admin/mode", set_mode, methods=["POST"]),
            Route("/admin/accounts", add_account, methods=["POST"]),
            Route("/admin/state", state, methods=["GET"]),
        ]
    )
    app.state.service = service
    app.state.effects = service.effects
    return app


def main(argv: Optional[Sequence[str]] = None) -> int:
    from bot.core.settings import named_secret

    parser = argparse.ArgumentParser(prog="python -m bot.devtools.account_service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9917)
    parser.add_argument("--secret-env", default="ACCOUNTS_WEBHOOK_SECRET")
    parser.add_argument("--callback-secret-env", default=None)
    parser.add_argument("--mode", choices=MODES, default="now")
    parser.add_argument("--export", choices=EXPORTS, default="file")
    args = parser.parse_args(argv)
    secret = named_secret(args.secret_env)
    if not secret:
        parser.error(f"{args.secret_env} is not set (environment or .env)")
    callback_secret = named_secret(args.callback_secret_env) if args.callback_secret_env else None
    import uvicorn

    app = make_app(secret, mode=args.mode, callback_secret=callback_secret, export=args.export)
    print(f"account service: http://{args.host}:{args.port}{WEBHOOK_PATH} ({args.mode})")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
