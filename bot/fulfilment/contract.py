"""What goes over the wire to a system reached by webhook, and what may come back.

The request body is built here, byte for byte: sorted keys and compact separators, so that the
same task sent twice is the same bytes with the same signature, and a test can reproduce one.
Moments are ISO 8601 in UTC to the second with "Z" (a naive datetime is taken as UTC, as the
database hands them back), which every language's standard library reads.

What comes back is read against the published JSON Schemas (schemas/, copied verbatim into
docs/fulfilment.md), so that the contract a product team reads is the one enforced here:

- the answer to the POST: 202 (with any body, or none) means "wait for the callback"; any other
  2xx carries the callback's JSON without `task_id`. The answer is validated with the callback
  schema less its requirement of `task_id` (`_answer_schema`), so the two cannot drift apart.
- the callback: the callback schema as written.

Anything else raises `BadAnswer` / `BadCallback`, whose `reason` is a short code built from the
schema and the HTTP status only, never from the body's values: it goes into logs and the task's
`last_error`, and a body may carry an address or a whole export. A body over `MAX_BODY_BYTES`
is refused before it is parsed (the callback endpoint should also stop reading at that size).

This module imports nothing from the project, so the request store may import it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Type

import jsonschema

SCHEMAS = Path(__file__).resolve().parent / "schemas"
TASK_REQUEST_SCHEMA = SCHEMAS / "task_request.schema.json"
CALLBACK_SCHEMA = SCHEMAS / "callback.schema.json"

# An access export travels base64-encoded inside the JSON (a third larger than the file): 20 MB
# of body is an export of about 14 MB, more than one account's data, and still a bounded read.
MAX_BODY_BYTES = 20 * 1024 * 1024

DONE = "done"
FAILED = "failed"
_KEY_SHAPE = re.compile(r"[A-Za-z0-9_]{1,40}")


class BadAnswer(ValueError):
    """A system's answer to the POST that settles nothing: the caller counts an attempt and
    sends the task again later."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadCallback(ValueError):
    """A callback body that does not follow the schema (the endpoint answers 400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TaskOrder:
    """One task as it is sent: everything a system needs to carry the request out."""

    task_id: str
    reference: str
    kind: str
    email: str
    details: Mapping[str, Any]
    requested_at: datetime
    due: datetime
    callback_url: str


@dataclass(frozen=True)
class ExportFile:
    """An access request's export, handed back in the body."""

    filename: str
    content: bytes = field(repr=False)  # a whole account's data stays out of reprs and logs


@dataclass(frozen=True)
class Outcome:
    """What a system said: `status` "done" or "failed", or None for "wait for the callback"."""

    status: Optional[str]
    detail: str = ""
    export_file: Optional[ExportFile] = None
    export_url: Optional[str] = None


@dataclass(frozen=True)
class Callback:
    task_id: str
    outcome: Outcome


def utc_moment(moment: datetime) -> str:
    """`2024-05-01T08:30:00Z`: UTC, to the second."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_body(order: TaskOrder, sent_at: datetime) -> bytes:
    """The JSON the system is sent, UTF-8, keys sorted and no spaces: deterministic, so the
    signature of a given task at a given moment is always the same."""
    payload = {
        "task_id": order.task_id,
        "reference": order.reference,
        "kind": order.kind,
        "email": order.email,
        "details": dict(order.details),
        "requested_at": utc_moment(order.requested_at),
        "due": utc_moment(order.due),
        "callback_url": order.callback_url,
        "sent_at": utc_moment(sent_at),
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


@functools.cache
def load_schema(path: Path) -> Dict[str, Any]:
    schema: Dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@functools.cache
def _validator(answer: bool) -> Any:
    schema = load_schema(CALLBACK_SCHEMA)
    if answer:
        schema = _answer_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _answer_schema(callback: Dict[str, Any]) -> Dict[str, Any]:
    """The answer's schema: the callback's, with `task_id` no longer required (an answer is to
    the POST that named its task; a `task_id` in it is allowed and ignored)."""
    schema = copy.deepcopy(callback)
    schema["required"] = [name for name in schema["required"] if name != "task_id"]
    return schema


def _reason(error: Any) -> str:
    """A short code for a schema error, from the schema's names and the error's path only."""
    where = ".".join(str(part) for part in error.absolute_path) or "body"
    validator = error.validator
    if validator == "required":
        missing = ",".join(n for n in error.validator_value if n not in error.instance) or "?"
        return f"missing:{missing}" if where == "body" else f"missing:{where}.{missing}"
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(key for key in error.instance if key not in allowed)
        shown = [key for key in extra if _KEY_SHAPE.fullmatch(key)]
        return f"unknown_key:{','.join(shown) or '?'}"
    if validator == "not" and where == "body":  # the schema's one `not`
        return "export_and_export_url"
    if validator is None:  # a `false` subschema: the key is not allowed here
        return f"not_allowed:{where}"
    return f"invalid:{where}:{validator}"


def _parse(body: bytes, validator: Any, error: Type[ValueError]) -> Dict[str, Any]:
    if len(body) > MAX_BODY_BYTES:
        raise error("too_large")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as problem:
        raise error("not_json") from problem
    if not isinstance(data, dict):
        raise error("not_an_object")
    problems = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if problems:
        raise error(_reason(jsonschema.exceptions.best_match(problems)))
    return data


def _outcome(data: Mapping[str, Any], error: Type[ValueError]) -> Outcome:
    export = data.get("export")
    export_file = None
    if export is not None:
        filename = export["filename"]
        # Python's `$` also matches before a final newline, which the schema's pattern cannot
        # say; no control character may reach a file name on our side.
        if any(ord(char) < 32 or char == "\x7f" for char in filename):
            raise error("invalid:export.filename:pattern")
        try:
            content = base64.b64decode(export["content_base64"], validate=True)
        except (binascii.Error, ValueError) as problem:
            raise error("invalid:export.content_base64:base64") from problem
        export_file = ExportFile(filename=filename, content=content)
    return Outcome(
        status=data["status"],
        detail=data.get("detail", "").strip(),
        export_file=export_file,
        export_url=data.get("export_url"),
    )


def read_answer(status_code: int, body: bytes) -> Outcome:
    """The system's answer to the POST. 202: wait for the callback (whatever the body). Another
    2xx: done or failed, per the answer schema. Anything else raises `BadAnswer`."""
    if status_code == 202:
        return Outcome(status=None)
    if not 200 <= status_code < 300:
        raise BadAnswer(f"http_{status_code}")
    data = _parse(body, _validator(True), BadAnswer)
    return _outcome(data, BadAnswer)


def read_callback(body: bytes) -> Callback:
    """A callback's body, per the callback schema; `BadCallback` otherwise. The signature is
    checked before this, on the raw bytes."""
    data = _parse(body, _validator(False), BadCallback)
    return Callback(task_id=data["task_id"], outcome=_outcome(data, BadCallback))
