"""What the policy leaves unanswered, kept for the legal department.

Every question the assistant answered with the nearest sentences (`closest`) or had to say the
policy is silent on (`not_covered`), every message it did not understand (`fallback`), and every
answer a visitor marked unhelpful (`unhelpful`) is stored here, masked, with its topic, reply
kind, language and date. `/staff/gaps` ranks the topics, draws the weekly trend and shows how
helpful each section's answers were: the input for the next version of the policy.

Why the chat page carries an `AnswerRef` with a token: the visitor's browser sends a rating back
to the web app, which has no conversation state. The token (an HMAC over the answer and the
conversation id) lets the web app trust what the page sends without asking Rasa, and stops a
page from rating answers it was never given, or for another conversation.

What is kept says nothing about who asked: no conversation id, and the question passes through
`mask_free_text` (e-mail, phone, reference, long numbers, names) before it is stored. So a
deletion request has nothing here to erase; the retention period (`python -m bot purge`) still
applies, like to every other kind of chat data.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.core.clock import utcnow
from bot.core.language import DEFAULT, LANGUAGES
from bot.core.masking import mask_free_text
from bot.core.paths import SECTION_MAP
from bot.storage.db import session_factory, transaction
from bot.storage.models import AnswerFeedback, PolicyGap

log = logging.getLogger(__name__)

REPLY_KINDS = ("direct", "closest", "not_covered", "fallback")
GAP_KINDS = ("closest", "not_covered", "fallback", "unhelpful")  # what is stored as a gap
UNHELPFUL = "unhelpful"

MAX_QUESTION_CHARS = 500  # what is stored of a question, after masking
# What a page may send back as the question: the chat accepts longer messages than are stored
# (MAX_MESSAGE_CHARS, 2,000 by default); the rest is cut after masking.
MAX_PAYLOAD_QUESTION_CHARS = 4000
MAX_SECTIONS = 12
TOKEN_CHARS = 32
PAYLOAD_KEYS = frozenset({"kind", "sections", "topic", "language", "question", "token"})
# Section and topic ids: `storage`, `camera_microphone` (data/policy/*.yml).
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")

NO_TOPIC_LABEL = "no topic recognised"
NO_SECTION_LABEL = "no section cited"


# -- what an answer carries to the chat page ---------------------------------------------------


def _check_fields(
    kind: Any,
    sections: Any,
    topic: Any,
    language: Any,
    question: Any,
    question_limit: Optional[int] = MAX_PAYLOAD_QUESTION_CHARS,
) -> None:
    """ValueError, saying which field, unless every field is of a known shape and value."""
    if kind not in REPLY_KINDS:
        raise ValueError(f"kind must be one of {', '.join(REPLY_KINDS)}")
    if not isinstance(sections, (list, tuple)) or len(sections) > MAX_SECTIONS:
        raise ValueError(f"sections must be a list of at most {MAX_SECTIONS} section ids")
    if not all(isinstance(s, str) and _ID.match(s) for s in sections):
        raise ValueError("sections must be section ids")
    if topic is not None and not (isinstance(topic, str) and _ID.match(topic)):
        raise ValueError("topic must be a topic id or null")
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    if not isinstance(question, str):
        raise ValueError("question must be text")
    if question_limit is not None and len(question) > question_limit:
        raise ValueError(f"question must be at most {question_limit} characters")


def _token(
    secret: str,
    sender: str,
    kind: str,
    sections: Sequence[str],
    topic: Optional[str],
    language: str,
    question: str,
) -> str:
    """The first 32 hex digits of HMAC-SHA256(secret, canonical JSON of the answer and sender).

    Canonical: `json.dumps([sender, kind, [sections...], topic, language, question],
    ensure_ascii=False, separators=(",", ":"))`, encoded as UTF-8."""
    if not secret:
        raise ValueError("no secret to sign answers with")
    message = json.dumps(
        [sender, kind, list(sections), topic, language, question],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    digest = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:TOKEN_CHARS]


@dataclass(frozen=True)
class AnswerRef:
    """What a policy answer carries to the chat page so the visitor can rate it."""

    kind: str  # one of REPLY_KINDS
    sections: Tuple[str, ...]  # section ids cited (may be empty)
    topic: Optional[str]  # coverage topic id or None
    language: str  # a registered language
    question: str  # the visitor's question as the assistant read it

    def __post_init__(self) -> None:
        # A list is accepted and kept as a tuple, so that a ref is hashable and cannot change;
        # an overlong question is cut rather than refused (only its start is ever stored), so
        # an answer never fails for the length of what the visitor typed.
        if isinstance(self.sections, list):
            object.__setattr__(self, "sections", tuple(self.sections))
        if isinstance(self.question, str) and len(self.question) > MAX_PAYLOAD_QUESTION_CHARS:
            object.__setattr__(self, "question", self.question[:MAX_PAYLOAD_QUESTION_CHARS])
        _check_fields(self.kind, self.sections, self.topic, self.language, self.question)

    def token(self, secret: str, sender: str) -> str:
        return _token(
            secret, sender, self.kind, self.sections, self.topic, self.language, self.question
        )

    def payload(self, secret: str, sender: str) -> Dict[str, Any]:
        """{"kind","sections"(list),"topic","language","question","token"}: what the action
        sends to the page (`json_message={"answer": ...}`) and the page sends back to rate it."""
        return {
            "kind": self.kind,
            "sections": list(self.sections),
            "topic": self.topic,
            "language": self.language,
            "question": self.question,
            "token": self.token(secret, sender),
        }

    @classmethod
    def from_payload(cls, data: Any, secret: str, sender: str) -> AnswerRef:
        """The ref a page sent back; ValueError when the shape is wrong, a field is not one of
        the known values or too long, or the token does not match this sender."""
        shaped = clean_answer_payload(data)
        if shaped is None:
            raise ValueError(
                "an answer is an object with kind, sections, topic, language, question and token"
            )
        ref = cls(
            shaped["kind"],
            tuple(shaped["sections"]),
            shaped["topic"],
            shaped["language"],
            shaped["question"],
        )
        if not isinstance(sender, str) or not hmac.compare_digest(
            ref.token(secret, sender), shaped["token"]
        ):
            raise ValueError("the answer's token does not match")
        return ref


def clean_answer_payload(data: Any) -> Optional[Dict[str, Any]]:
    """`data` as a payload of exactly the expected keys and shapes, or None. Checks the shape
    only, not the token: what the web app relays to the page (bot.web.app)."""
    if not isinstance(data, dict) or set(data) != PAYLOAD_KEYS:
        return None
    token = data["token"]
    if not isinstance(token, str) or not re.fullmatch(rf"[0-9a-f]{{{TOKEN_CHARS}}}", token):
        return None
    try:
        _check_fields(
            data["kind"], data["sections"], data["topic"], data["language"], data["question"]
        )
    except ValueError:
        return None
    return {
        "kind": data["kind"],
        "sections": list(data["sections"]),
        "topic": data["topic"],
        "language": data["language"],
        "question": data["question"],
        "token": token,
    }


def stored_question(question: str) -> str:
    """What is kept of a question: masked first (so a cut cannot split an address and leave
    half of it unmasked), then cut to MAX_QUESTION_CHARS."""
    return mask_free_text(question)[:MAX_QUESTION_CHARS]


# -- the report for /staff/gaps ----------------------------------------------------------------


@dataclass(frozen=True)
class TopicGaps:
    topic: Optional[str]
    label: str  # the topic id, or NO_TOPIC_LABEL
    count: int
    kinds: Mapping[str, int]  # reply kind -> count, every GAP_KIND present
    examples: Tuple[str, ...]  # the latest distinct questions, masked


@dataclass(frozen=True)
class WeekCount:
    start: date  # the Monday the ISO week starts on (UTC)
    iso_week: str  # "2026-W49"
    count: int


@dataclass(frozen=True)
class SectionRating:
    section: Optional[str]  # None: answers that cited no section
    helpful: int
    unhelpful: int

    @property
    def total(self) -> int:
        return self.helpful + self.unhelpful

    @property
    def ratio(self) -> Optional[float]:
        """Share of the ratings that said helpful (0..1); None without ratings."""
        return self.helpful / self.total if self.total else None


@dataclass(frozen=True)
class GapReport:
    topics: Tuple[TopicGaps, ...]  # most asked first
    weeks: Tuple[WeekCount, ...]  # oldest first, the current week last
    sections: Tuple[SectionRating, ...]  # most unhelpful first
    total: int  # every gap kept
    generated_at: datetime = field(default_factory=utcnow)


def week_start(moment: datetime) -> date:
    """The Monday (UTC) of the ISO week `moment` falls in."""
    day = moment.astimezone(timezone.utc).date()
    return day - timedelta(days=day.weekday())


def _iso_week(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_counts(
    session: Session, created_at: Any, now: datetime, weeks: int
) -> Tuple[WeekCount, ...]:
    """How many rows have `created_at` (a timestamp column) in each of the last `weeks` ISO
    weeks, oldest first, the current week last. Bucketed here rather than in SQL: a week of a
    timestamp is said differently by each database, and a week's rows are few."""
    current = week_start(now)
    first = current - timedelta(weeks=weeks - 1)
    start = datetime.combine(first, time(0), tzinfo=timezone.utc)
    end = datetime.combine(current + timedelta(weeks=1), time(0), tzinfo=timezone.utc)
    counts = [0] * weeks
    for moment in session.execute(
        select(created_at).where(created_at >= start, created_at < end)
    ).scalars():
        aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        counts[(week_start(aware) - first).days // 7] += 1
    return tuple(
        WeekCount(first + timedelta(weeks=i), _iso_week(first + timedelta(weeks=i)), counts[i])
        for i in range(weeks)
    )


def _topic_label(topic: Optional[str]) -> str:
    return topic if topic is not None else NO_TOPIC_LABEL


# -- the log -------------------------------------------------------------------------------


class GapLog:
    """The `policy_gaps` and `answer_feedback` tables: written by the assistant and the chat
    page, read by the legal department, emptied by the retention period."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.clock = clock

    def record(
        self,
        *,
        question: str,
        reply_kind: str,
        topic: Optional[str],
        sections: Sequence[str],
        language: str,
    ) -> None:
        """Store one gap, its question masked. ValueError for a reply kind that is not a gap
        (GAP_KINDS) or a field of an unknown shape."""
        if reply_kind not in GAP_KINDS:
            raise ValueError(f"reply_kind must be one of {', '.join(GAP_KINDS)}")
        if isinstance(sections, str):  # one id given bare would be read as its letters
            raise ValueError("sections must be a list of section ids")
        sections = list(sections)
        _check_fields("closest", sections, topic, language, question, question_limit=None)
        with transaction(self.sessions) as session:
            session.add(self._gap(question, reply_kind, topic, sections, language))

    def _gap(
        self,
        question: str,
        reply_kind: str,
        topic: Optional[str],
        sections: List[str],
        language: str,
    ) -> PolicyGap:
        return PolicyGap(
            reply_kind=reply_kind,
            topic=topic,
            sections=sections,
            language=language,
            question=stored_question(question),
            created_at=self.clock(),
        )

    def feedback(self, ref: AnswerRef, helpful: bool) -> None:
        """One rating per section the answer cited (section NULL when it cited none); an
        unhelpful answer is also a gap, in the same transaction."""
        now = self.clock()
        with transaction(self.sessions) as session:
            for section in ref.sections or (None,):
                session.add(
                    AnswerFeedback(
                        section=section,
                        helpful=bool(helpful),
                        reply_kind=ref.kind,
                        topic=ref.topic,
                        language=ref.language,
                        created_at=now,
                    )
                )
            if not helpful:
                session.add(
                    self._gap(ref.question, UNHELPFUL, ref.topic, list(ref.sections), ref.language)
                )

    # -- reading ------------------------------------------------------------------------

    def report(
        self, *, weeks: int = 12, examples: int = 3, now: Optional[datetime] = None
    ) -> GapReport:
        """Topics ranked by how often they came up (ties by label), each with its reply kinds
        and latest `examples` distinct questions; the count of each of the last `weeks` ISO
        weeks (zero-filled, the current one last); and the ratings per section."""
        now = now or self.clock()
        with transaction(self.sessions) as session:
            topics = self._topics(session, examples)
            week_counts = weekly_counts(session, PolicyGap.created_at, now, max(1, weeks))
            sections = self._sections(session)
        total = sum(t.count for t in topics)
        return GapReport(topics, week_counts, sections, total, now)

    def _topics(self, session: Session, examples: int) -> Tuple[TopicGaps, ...]:
        kinds: Dict[Optional[str], Dict[str, int]] = {}
        for topic, kind, count in session.execute(
            select(PolicyGap.topic, PolicyGap.reply_kind, func.count()).group_by(
                PolicyGap.topic, PolicyGap.reply_kind
            )
        ):
            kinds.setdefault(topic, {k: 0 for k in GAP_KINDS})[kind] = int(count)
        ranked = sorted(
            kinds.items(), key=lambda item: (-sum(item[1].values()), _topic_label(item[0]))
        )
        return tuple(
            TopicGaps(
                topic,
                _topic_label(topic),
                sum(by_kind.values()),
                by_kind,
                self._examples(session, topic, examples),
            )
            for topic, by_kind in ranked
        )

    @staticmethod
    def _examples(session: Session, topic: Optional[str], limit: int) -> Tuple[str, ...]:
        if limit <= 0:
            return ()
        condition = PolicyGap.topic.is_(None) if topic is None else PolicyGap.topic == topic
        seen: List[str] = []
        for question in session.execute(
            select(PolicyGap.question)
            .where(condition, PolicyGap.question != "")
            .order_by(PolicyGap.created_at.desc(), PolicyGap.id.desc())
            .limit(limit * 10)
        ).scalars():
            if question not in seen:
                seen.append(question)
            if len(seen) == limit:
                break
        return tuple(seen)

    @staticmethod
    def _sections(session: Session) -> Tuple[SectionRating, ...]:
        by_section: Dict[Optional[str], List[int]] = {}
        for section, helpful, count in session.execute(
            select(AnswerFeedback.section, AnswerFeedback.helpful, func.count()).group_by(
                AnswerFeedback.section, AnswerFeedback.helpful
            )
        ):
            by_section.setdefault(section, [0, 0])[0 if helpful else 1] += int(count)
        ratings = [SectionRating(s, h, u) for s, (h, u) in by_section.items()]
        return tuple(sorted(ratings, key=lambda r: (-r.unhelpful, -r.total, r.section or "~")))

    def export_rows(self) -> List[Dict[str, Any]]:
        """Every gap, oldest first, as text for the CSV: created_at (ISO 8601, UTC),
        reply_kind, topic ("" for none), sections (ids joined by ";"), language, question
        (masked)."""
        with transaction(self.sessions) as session:
            rows = session.execute(
                select(PolicyGap).order_by(PolicyGap.created_at, PolicyGap.id)
            ).scalars()
            return [
                {
                    "created_at": r.created_at.astimezone(timezone.utc).isoformat(),
                    "reply_kind": r.reply_kind,
                    "topic": r.topic or "",
                    "sections": ";".join(r.sections or []),
                    "language": r.language,
                    "question": r.question,
                }
                for r in rows
            ]

    # -- retention ------------------------------------------------------------------------

    def purge(
        self, older_than: timedelta, *, now: Optional[datetime] = None, dry_run: bool = False
    ) -> Tuple[int, int]:
        """Remove gaps and ratings made before `now - older_than`; (gaps, ratings) removed, or
        with `dry_run` counted and kept."""
        cutoff = (now or self.clock()) - older_than
        with transaction(self.sessions) as session:
            counts = []
            for model in (PolicyGap, AnswerFeedback):
                condition = model.created_at < cutoff
                if dry_run:
                    counts.append(
                        session.execute(
                            select(func.count()).select_from(model).where(condition)
                        ).scalar_one()
                    )
                else:
                    counts.append(
                        session.execute(
                            delete(model).where(condition),
                            execution_options={"synchronize_session": False},
                        ).rowcount
                    )
        return int(counts[0]), int(counts[1])


# -- names for people ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _published_headings() -> Dict[str, str]:
    try:
        with open(SECTION_MAP, encoding="utf-8") as handle:
            return {s["id"]: s["heading"] for s in yaml.safe_load(handle)["sections"]}
    except (OSError, KeyError, TypeError, yaml.YAMLError) as error:
        log.warning("Section headings unavailable: %s", type(error).__name__)
        return {}


def section_headings(language: str = DEFAULT) -> Dict[str, str]:
    """Section id -> heading, from data/policy/sections.yml; empty if it cannot be read (the
    staff page then shows ids). In another language the published heading keeps its place and the
    translation's name stands beside it, as in the answers: "Policy update（政策更新）"."""
    headings = _published_headings()
    if language == DEFAULT:
        return dict(headings)
    try:
        from bot.policy.translation import load_translation

        translation = load_translation(language)
        return {
            section_id: translation.cited_heading(section_id, heading)
            for section_id, heading in headings.items()
        }
    except Exception as error:  # noqa: BLE001 - a display nicety must not break the page
        log.warning("Translated section headings unavailable: %s", type(error).__name__)
        return dict(headings)


def topic_names(language: str = DEFAULT) -> Dict[str, str]:
    """Topic id -> name from the coverage map (bot.policy.coverage), in `language` (the default
    language's where the map has none in it); empty when it cannot be loaded. Only for display: a
    topic stored under an id the map no longer has still shows, by id."""
    try:
        from bot.policy.coverage import load_coverage

        return {t.id: t.name_in(language) for t in load_coverage().topics}
    except Exception as error:  # noqa: BLE001 - a display nicety must not break the page
        log.warning("Topic names unavailable: %s", type(error).__name__)
        return {}
