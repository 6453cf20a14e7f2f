"""What a request's page shows of the work on it (bot.requests.casework, bot.requests.delivery,
bot.fulfilment): the working days left, who has it, notes and messages, the extension and the
hold, the copies delivered, the refusal templates, the tasks in the product's systems, and its
personal data masked unless revealed.

Only reading here; the forms' handlers are in `bot.web.staff.casework`. Kept apart from
`requests` so that the request page and those handlers share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional
from zoneinfo import ZoneInfo

from bot.core.masking import mask_email, mask_pii
from bot.core.settings import load_settings
from bot.fulfilment.service import TaskView
from bot.requests import deadlines, lifecycle, overview, refusals
from bot.requests import task_states as states
from bot.requests.casework import HOLD_REASONS, MESSAGE, NOTE
from bot.requests.code_masking import mask_transcript
from bot.requests.references import REFERENCE_PATTERN
from bot.requests.tasks import state_label
from bot.services import Services
from bot.staff.accounts import StaffMember
from bot.storage.models import PrivacyRequest


@dataclass(frozen=True)
class DaysLeft:
    """The working days to a request's due date, and how urgent that is: "overdue" (red),
    "soon" (amber, within `overview.DUE_SOON_WORKING_DAYS`), "ok", or "closed" (no longer
    counted)."""

    days: int
    state: str
    held: bool = False


def days_left(row: PrivacyRequest, now: datetime) -> DaysLeft:
    """The queue's reckoning (`overview.days_left`), as the request page says it: an overdue
    request is at least one day late."""
    held = row.held_at is not None
    left = overview.days_left(row.status, row.due_at, now)
    if left is None:
        return DaysLeft(0, "closed", held)
    if left.overdue:
        return DaysLeft(min(left.days, -1), "overdue", held)
    return DaysLeft(left.days, "soon" if left.due_soon else "ok", held)


def local_date(moment: datetime) -> date:
    """The day a moment falls on where the desk's jurisdiction counts days."""
    return moment.astimezone(ZoneInfo(deadlines.jurisdiction().zone)).date()


def assignable(services: Services) -> List[str]:
    """Who a request can be given to: active members who may work requests."""
    return [
        m.username for m in services.directory.list() if not m.disabled and m.can("change_requests")
    ]


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def personal_data(row: PrivacyRequest, revealed: bool) -> Dict[str, Any]:
    """The requester's e-mail, their words and the chat, masked (e-mail addresses and phone
    numbers) unless the member has revealed them, which is audited. The codes typed in the
    chat are masked either way (a transcript stored before they were masked when stored)."""
    transcript = mask_transcript(row.transcript or [])
    if revealed:
        return {
            "email": row.email,
            "details": row.details or {},
            "reason": row.reason,
            "transcript": transcript,
            "revealed": True,
        }
    return {
        "email": mask_email(row.email),
        "details": _masked(row.details or {}),
        "reason": _masked(row.reason),
        "transcript": [
            {**line, "text": _masked(line.get("text"))} if isinstance(line, dict) else line
            for line in transcript
        ],
        "revealed": False,
    }


@dataclass(frozen=True)
class Related:
    """A request another one's details name by its reference (a complaint's `about_request`):
    None for `row` when no request has that reference."""

    reference: str
    row: Optional[PrivacyRequest]


def related_requests(services: Services, row: PrivacyRequest) -> Dict[str, Related]:
    """The details of `row` whose value is a request reference, by detail key, with the request
    each names, so the page can link to it and say what it is."""
    found: Dict[str, Related] = {}
    for key, value in (row.details or {}).items():
        if isinstance(value, str) and REFERENCE_PATTERN.match(value):
            found[key] = Related(value, services.store.get(value))
    return found


def refusal_choices(row: PrivacyRequest, member_language: str) -> List[Dict[str, str]]:
    """The refusal templates: titled in the member's language, worded in the request's (the
    requester reads the reason)."""
    language = getattr(row, "language", None) or "en"
    return [
        {
            "key": t.key,
            "title": t.title.get(member_language, t.title["en"]),
            "text": t.reason(language, row.reference),
        }
        for t in refusals.templates()
    ]


@dataclass(frozen=True)
class TaskRow:
    """A task as the request page shows it: its system and state named in the member's
    language, what may be done with it, and what the system said, masked like the rest of the
    page unless revealed (a system may echo the requester's address back)."""

    task: TaskView
    label: str
    state_label: str
    last_error: Optional[str]
    detail: Optional[str]
    can_tick: bool  # by hand: a manual task not settled, or a webhook task that failed
    can_retry: bool  # a webhook task that failed, or was accepted and never answered

    @property
    def settled(self) -> bool:
        return self.task.state in states.SETTLED


def task_rows(views: List[TaskView], status: str, language: str, revealed: bool) -> List[TaskRow]:
    """The request's tasks; none can be ticked or retried once it is no longer in progress
    (the service would refuse: "not_open")."""
    working = status == lifecycle.IN_PROGRESS
    rows = []
    for view in views:
        failed = view.state == states.FAILED
        manual_open = view.reach == states.MANUAL and view.state not in states.SETTLED
        rows.append(
            TaskRow(
                task=view,
                label=view.label(language),
                state_label=state_label(view.state, language),
                last_error=view.last_error if revealed else _masked(view.last_error),
                detail=view.detail if revealed else _masked(view.detail),
                can_tick=working and (manual_open or failed),
                can_retry=working
                and view.reach == states.WEBHOOK
                and view.state in (states.FAILED, states.SENT),
            )
        )
    return rows


def context(
    services: Services,
    row: PrivacyRequest,
    me: StaffMember,
    language: str,
    revealed: bool = False,
    form: Optional[Mapping[str, str]] = None,
    refusal: Optional[str] = None,
) -> Dict[str, Any]:
    """Everything the request page's casework panels need; `form` is what the member typed
    in a form that was refused, shown again; `refusal` a template chosen without script."""
    now = services.store.clock()
    settings = load_settings()
    notes = services.casework.notes(row.reference)
    is_open = row.status in lifecycle.OPEN_STATUSES
    latest = deadlines.latest_extension(row.due_at).due if is_open else None
    choices = refusal_choices(row, language)
    chosen = next((c for c in choices if c["key"] == refusal), None)
    tasks = task_rows(services.fulfilment.tasks(row.reference), row.status, language, revealed)
    return {
        "days": days_left(row, now),
        "is_open": is_open,
        "assignee": row.assignee,
        "assignable": assignable(services),
        "notes": [n for n in notes if n.kind == NOTE],
        "messages": [n for n in notes if n.kind == MESSAGE],
        "hold_reasons": HOLD_REASONS,
        "held": row.held_at is not None,
        "held_at": row.held_at,
        "hold_reason": row.hold_reason,
        "hold_note": row.hold_note,
        "hold_stops_clock": bool(row.hold_stops_clock),
        "original_due_at": row.original_due_at,
        "extension_reason": row.extension_reason,
        "extended": row.original_due_at is not None,
        "extension_min": (local_date(row.due_at) + timedelta(days=1)).isoformat(),
        "unknown_years": ", ".join(
            str(y) for y in deadlines.unknown_years(row.created_at, row.due_at)
        )
        if is_open
        else "",
        "extension_max": local_date(latest).isoformat() if latest else "",
        "deliveries": services.deliveries.for_request(row.reference)
        if row.kind == "access"
        else [],
        "delivery_max_mb": settings.delivery_max_bytes // 1_000_000,
        "delivery_days": settings.delivery_expiry_days,
        "refusals": choices,
        "refusal_chosen": chosen,
        "pii": personal_data(row, revealed),
        "related": related_requests(services, row),
        "tasks": tasks,
        # Completing by hand while these are unsettled needs a reason (the store checks it).
        "tasks_open": sum(not t.settled for t in tasks)
        if row.status == lifecycle.IN_PROGRESS
        else 0,
        "form": dict(form or {}),
        "now": now,
    }
