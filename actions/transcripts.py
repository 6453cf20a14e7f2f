"""The conversation so far, as the visitor saw it, for the people who take it over; what the
visitor typed at a code step masked (bot.requests.code_masking), since this is what is stored
with requests and handoff tickets."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from bot.conversation import withdrawal
from bot.requests.code_masking import mask_transcript

# The form slots a visitor answers with an e-mailed code: the request forms' and withdrawal's.
CODE_SLOTS = frozenset({"verification_code", withdrawal.CODE_SLOT})
REQUESTED_SLOT = "requested_slot"


def transcript_of(tracker: Tracker, limit: int = 200) -> List[Dict[str, Any]]:
    lines: List[Dict[str, Any]] = []
    code_step: List[int] = []
    form: Optional[str] = None
    requested: Optional[str] = None
    for event in tracker.events:
        kind = event.get("event")
        if kind == "active_loop":
            form = event.get("name")
        elif kind == "slot" and event.get("name") == REQUESTED_SLOT:
            requested = event.get("value")
        elif kind in ("restart", "session_started"):
            form = requested = None
        if kind not in ("user", "bot") or not (event.get("text") or "").strip():
            continue
        if kind == "user" and form and requested in CODE_SLOTS:
            code_step.append(len(lines))
        at = event.get("timestamp")
        lines.append(
            {
                "from": "visitor" if kind == "user" else "assistant",
                "text": event["text"],
                "at": datetime.fromtimestamp(at, timezone.utc).isoformat() if at else "",
            }
        )
    first = max(0, len(lines) - limit)
    return mask_transcript(lines[first:], [index - first for index in code_step])
