"""How requests are handled here, answered from the assistant's own facts.

The assistant runs the request process itself, so it knows what the policy does not say: the
time it gives to answer, who handles a request, how identity is checked, what follows the code,
what a completed deletion erases here, how to withdraw, extensions and holds, how to complain.
Each is said under the catalogue's heading as our own practice (`process.heading`), followed by
its plain line that the policy itself says nothing on it, and never quoted as policy text.

The words are the catalogue's (`process.fact.<fact>`, data/texts/<language>/process.yml); every
number and name in them comes from where the work is done, so the answer stays true when that
changes: the settings (REQUEST_DUE_WORKING_DAYS, REQUEST_JURISDICTION,
REQUEST_MAX_EXTENSION_WORKING_DAYS) and the deadlines' calendar, the code's length, lifetime and
tries, the registry of kinds, the desk's hold reasons, the kinds whose completion erases the
requester's conversations. Which fact a question asks for is `bot.conversation.process_questions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Optional, Sequence
from zoneinfo import ZoneInfo

from bot.conversation import process_questions
from bot.conversation.routing import NOT_COVERED, Decision
from bot.core.clock import utcnow
from bot.core.language import or_default
from bot.core.settings import load_settings
from bot.core.texts import DEFAULT_LANGUAGE, text
from bot.policy.answers import Reply, contact_line
from bot.policy.document import load_policy
from bot.requests import casework, deadlines, lifecycle, verification
from bot.requests.registry import BY_KIND, KINDS
from bot.requests.store import due_working_days
from bot.retention.erasure import ERASING_KINDS

# The facts a line that holds only some of the time follows (process.estimated, process.at_once).
DEADLINE, VERIFICATION = "deadline", "verification"


def joined(items: Sequence[str], language: str, conjunction: str = "and") -> str:
    """ "a, b and c" (`conjunction` "and" or "or") as the language lists things."""
    if len(items) <= 1:
        return "".join(items)
    said = text(f"process.list.last.{conjunction}", language, first=items[-2], last=items[-1])
    for item in reversed(items[:-2]):
        said = text("process.list.more", language, first=item, rest=said)
    return said


def _period(where: deadlines.Jurisdiction, working_days: int, months: int, language: str) -> str:
    """A time to answer as the jurisdiction counts it: working days, or calendar months."""
    if where.working_day is not None:
        return text("process.period.working_days", language, days=working_days)
    plural = "one" if months == 1 else "other"
    return text(f"process.period.months.{plural}", language, months=months)


@dataclass(frozen=True)
class Filled:
    """The facts' placeholders in one language as of one moment, and the lines that hold only
    some of the time, by the fact they follow."""

    values: Dict[str, str]
    notes: Dict[str, List[str]]


def filled(language: str = DEFAULT_LANGUAGE, now: Optional[datetime] = None) -> Filled:
    """Every placeholder of the facts, in `language`, as of `now` (the example due date)."""
    where = deadlines.jurisdiction()
    days = due_working_days()
    deadline = deadlines.due_date(now or utcnow(), days, where)
    years = [str(year) for year in deadline.unknown_years]
    at_once = [kind.wording("name", language) for kind in KINDS if not kind.verify]
    open_statuses = [s for s in lifecycle.STATUSES if s in lifecycle.OPEN_STATUSES]
    values = {
        "handler": text("process.handler", language),
        "period": _period(where, days, where.months, language),
        "calendar": text(f"process.calendar.{where.key}", language),
        "due": text("format.date", language, date=deadline.due.astimezone(ZoneInfo(where.zone))),
        "extension": _period(
            where,
            load_settings().request_max_extension_working_days,
            where.extension_months,
            language,
        ),
        "digits": str(verification.CODE_DIGITS),
        "minutes": str(int(verification.CODE_TTL.total_seconds() // 60)),
        "tries": str(verification.MAX_ATTEMPTS),
        "prefixes": joined([kind.prefix for kind in KINDS], language),
        "erasing": joined(
            [BY_KIND[kind].wording("name", language) for kind in ERASING_KINDS], language, "or"
        ),
        "open": joined(
            [text(f"flow.status_name.{status}", language) for status in open_statuses],
            language,
            "or",
        ),
        "holds": joined(
            [text(f"casework.hold_reason.{reason}", language) for reason in casework.HOLD_REASONS],
            language,
            "or",
        ),
        "contact": contact_line(load_policy(), language),
    }
    notes: Dict[str, List[str]] = {}
    if deadline.estimated:
        notes[DEADLINE] = [text("process.estimated", language, years=joined(years, language))]
    if at_once:
        kinds = joined(at_once, language, "or")
        notes[VERIFICATION] = [text("process.at_once", language, kinds=kinds)]
    return Filled(values, notes)


def fact(name: str, part: str, language: str, values: Dict[str, str]) -> str:
    """One part of a fact (`headline`, `text` or `policy`), its placeholders filled."""
    return text(f"process.fact.{name}.{part}", language, **values)


def answer(
    chosen: Sequence[str], language: str = DEFAULT_LANGUAGE, now: Optional[datetime] = None
) -> Reply:
    """The heading, then each chosen fact with its plain line on the policy; no fact chosen:
    the overview, every fact's headline."""
    language = or_default(language)
    facts = filled(language, now)
    values = facts.values
    blocks = [text("process.heading", language)]
    if chosen:
        for name in chosen:
            blocks.append(fact(name, "text", language, values))
            blocks += facts.notes.get(name, [])
            blocks.append(fact(name, "policy", language, values))
    else:
        items = [
            text(
                "process.overview.item", language, headline=fact(name, "headline", language, values)
            )
            for name in process_questions.facts()
        ]
        blocks += [
            "\n".join(items),
            text("process.overview.ask", language),
            text("process.overview.policy", language),
        ]
    return Reply("\n\n".join(blocks))


def reply_to(
    question: str, language: str = DEFAULT_LANGUAGE, now: Optional[datetime] = None
) -> Reply:
    """The answer to a question about how requests are handled here (`ask_process`)."""
    return answer(process_questions.choose(question), language, now)


def instead_of_silence(
    decision: Decision, question: str, language: str = DEFAULT_LANGUAGE
) -> Optional[Reply]:
    """For a question the router found the policy silent on that asks about a request made here
    and one of the facts ("申请删除以后要多久才能删干净"): that fact, which says itself that the
    policy is silent. None otherwise: the router's reply stands ("how long do you keep my
    data" is still the policy's silence on retention)."""
    if decision.kind != NOT_COVERED or not process_questions.about_requests(question):
        return None
    chosen = process_questions.choose(question)
    return answer(chosen, language) if chosen else None
