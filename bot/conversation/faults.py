"""What the visitor is told when part of the system fails mid-conversation, and how "try again"
finds what was left undone.

Rasa keeps the conversation (slots included); the action server and the request database do
the work. When either fails, the answers the visitor gave are still in Rasa's slots, so the
promise is: tell them plainly, keep the answers, and let "try again" finish the job. A request
whose storing failed is remembered in the `pending_submission` slot; the apology is marked in
its metadata so that the next "try again" knows there is something to retry. What the visitor is
told is in the catalogue of texts (`fault.*`), in the conversation's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, Mapping, Optional

from bot.core.texts import DEFAULT_LANGUAGE, button, text
from bot.requests.registry import BY_SUBMIT_ACTION

PENDING_SLOT = "pending_submission"
FAILURE_MARK = "service_failure"  # key in a BotUttered's metadata
RETRY_INTENT = "retry"


def retry_button(language: str = DEFAULT_LANGUAGE) -> Dict[str, str]:
    """ "Try again" under every apology; its payload is `/retry` (`RETRY_INTENT`)."""
    return button("fault.retry_button", language)


def not_saved(language: str = DEFAULT_LANGUAGE) -> str:
    """A confirmed request could not be stored: the answers are kept for "try again"."""
    return text("fault.not_saved", language)


def not_done(language: str = DEFAULT_LANGUAGE) -> str:
    """Any other step failed: nothing the visitor said is lost."""
    return text("fault.not_done", language)


def dropped(language: str = DEFAULT_LANGUAGE) -> str:
    """ "Stop" after a failed save: the pending request is given up."""
    return text("fault.dropped", language)


def nothing_to_retry(events: Iterable[Mapping[str, Any]], language: str = DEFAULT_LANGUAGE) -> str:
    """ "Try again" with no request pending: the message again, if the last turn failed."""
    return text(
        "fault.send_again" if last_reply_was_failure(events) else "fault.nothing_pending", language
    )


def pending_kind(action_name: str) -> Optional[str]:
    """The request kind a kind's submit action stores, or None for any other action."""
    found = BY_SUBMIT_ACTION.get(action_name)
    return found.kind if found else None


def failure_text(action_name: str, language: str = DEFAULT_LANGUAGE) -> str:
    return not_saved(language) if pending_kind(action_name) else not_done(language)


def pending_slots(kind: str) -> Dict[str, Any]:
    """What a failed save leaves in the conversation: the answers stay, the request is pending,
    and the confirmation is asked for again should the visitor start over."""
    return {PENDING_SLOT: kind, "confirm_request": None}


def failure_metadata(action_name: str) -> Dict[str, Any]:
    return {FAILURE_MARK: action_name}


def _is_failure(event: Mapping[str, Any]) -> bool:
    return event.get("event") == "bot" and FAILURE_MARK in (event.get("metadata") or {})


def _intent(event: Mapping[str, Any]) -> str:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""


@dataclass(frozen=True)
class FailedTurn:
    """The visitor's message whose turn ended in an apology, and the action that failed."""

    message: Mapping[str, Any]
    action: str

    @property
    def unread(self) -> bool:
        """Was the message never read? Only a form's validation failing leaves it unread; when
        a later step failed (asking the next question), the answer was taken already, and
        reading it again would take it for the answer to a question it never answered."""
        return self.action.startswith("validate_")


def failed_turn(events: Iterable[Mapping[str, Any]]) -> Optional[FailedTurn]:
    """The turn that "try again" refers to, when every turn since then failed too; None when
    the turn before the latest message went well."""
    turns = []  # (user event, the action that failed in its turn), newest first
    failing: Optional[str] = None
    for event in reversed(list(events)):
        if event.get("event") == "user":
            turns.append((event, failing))
            failing = None
        elif _is_failure(event):
            failing = str(event["metadata"][FAILURE_MARK])
    for message, action in turns[1:]:  # the latest message excluded
        if action is None:
            return None
        if _intent(message) != RETRY_INTENT:
            return FailedTurn(message, action)
    return None


def failed_message(events: Iterable[Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
    """The visitor's message that the assistant answered with an apology, when every turn since
    then failed too: "try again" means "read that message again". None when the turn before
    the latest message went well."""
    turn = failed_turn(events)
    return turn.message if turn else None


def last_reply_was_failure(events: Iterable[Mapping[str, Any]]) -> bool:
    """Did the assistant apologise in the turn before the visitor's latest message?"""
    return failed_message(events) is not None
