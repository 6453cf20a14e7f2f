"""The conversation so far, as the visitor saw it, for the people who take it over."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List

from rasa_sdk import Tracker


def transcript_of(tracker: Tracker, limit: int = 200) -> List[Dict[str, Any]]:
    lines: List[Dict[str, Any]] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind not in ("user", "bot") or not (event.get("text") or "").strip():
            continue
        at = event.get("timestamp")
        lines.append(
            {
                "from": "visitor" if kind == "user" else "assistant",
                "text": event["text"],
                "at": datetime.fromtimestamp(at, timezone.utc).isoformat() if at else "",
            }
        )
    return lines[-limit:]
