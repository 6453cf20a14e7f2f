"""Which kind of reply a policy question gets: a direct answer, the closest the policy comes, or
an honest "the policy does not say".

A confident wrong quote is worse for a legal assistant than saying the policy is silent. So the
reply is chosen from calibrated confidence (`Thresholds`, fitted on our own examples by
`python -m bot calibrate`) and from whether the policy addresses the question at all: the
silence classifier's probability (`bot.nlu.silence`, in the evidence; its threshold calibrated
per language by `python -m bot silence`) decides that, and the coverage map names the topic and
says what the policy says and leaves out of it. Without a silence probability (no model) the
map's cue words decide, as they did before it. A question about a topic the policy leaves open is
never answered as if a section settled it.
Pure functions of what NLU found; `actions/policy_answers.py` only feeds them the tracker.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from bot.core.texts import DEFAULT_LANGUAGE
from bot.nlu.evidence import CALIBRATION_FILE, Evidence, Part
from bot.nlu.evidence import thresholds as evidence_thresholds
from bot.nlu.silence import SILENCE_FILE
from bot.nlu.silence import threshold as silence_threshold
from bot.policy.coverage import PARTLY, SILENT, Coverage, Topic

DIRECT, CLOSEST, NOT_COVERED, NOT_POLICY = "direct", "closest", "not_covered", "not_policy"
REPLY_KINDS = (DIRECT, CLOSEST, NOT_COVERED, NOT_POLICY)
SECTION_PREFIX = "ask_"
NOT_COVERED_INTENT = "ask_not_covered"
# How requests are handled here (bot.conversation.process_answers): its own action, not the
# router's, and no section of the policy.
PROCESS_INTENT = "ask_process"
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"
BOT_CHALLENGE = "bot_challenge"
# Besides every ask_* intent, what data/rules/ sends to the router: a privacy question can read
# as out of scope ("can the app access my camera"), unclear, or small talk ("are you recording me").
ROUTED_INTENTS = (OUT_OF_SCOPE, FALLBACK, BOT_CHALLENGE)


def is_routed(intent: Optional[str]) -> bool:
    if not intent or intent == PROCESS_INTENT:
        return False
    return str(intent).startswith(SECTION_PREFIX) or intent in ROUTED_INTENTS


def is_section_intent(intent: str) -> bool:
    """`ask_<section>`: a question one section of the policy answers."""
    return intent.startswith(SECTION_PREFIX) and intent not in (NOT_COVERED_INTENT, PROCESS_INTENT)


@dataclass(frozen=True)
class Thresholds:
    """Confidence a section needs for a direct answer, and for "the closest the policy comes";
    and how much of the classifier's belief must be on policy questions before an unclear
    message is treated as one (rather than as small talk or out of scope)."""

    direct: float = 0.5
    closest: float = 0.3
    policy_mass: float = 0.5
    part: float = 0.5  # each part of a two-part question, to answer both (calibrated: as
    # sure as the closest the policy comes: the split itself is evidence of two questions)
    out_of_scope: float = 0.5  # an out-of-scope reading this sure keeps a topic word from counting
    # How similar the best sentence of the section must be to the question for a direct answer
    # (the encoder's cosine): a confident classification with nothing in the text that reads
    # like the question is quoted as the closest the policy comes instead.
    evidence: float = 0.0
    # The silence probability (`Evidence.silence`) at or above which the policy is taken to be
    # silent on the question; None: no calibrated classifier, the cue words decide.
    silence: Optional[float] = None


@functools.lru_cache(maxsize=8)
def load_thresholds(path: Path = CALIBRATION_FILE, language: str = DEFAULT_LANGUAGE) -> Thresholds:
    """The calibrated thresholds (read once per process); the defaults where none were fitted.

    The default language: the file's `thresholds:`. Another language: its own block over those
    (see `bot.nlu.evidence.thresholds`, the file's one reader, for which languages have no
    evidence floor of the default's scale). The language's silence threshold comes from the
    silence classifier's file beside it (`silence.yml`), when there is one."""
    chosen = evidence_thresholds(language, path)
    return Thresholds(
        **{
            k: float(v)
            for k, v in chosen.items()
            if k in Thresholds.__dataclass_fields__ and k != "silence"
        },
        silence=silence_threshold(language, path.parent / SILENCE_FILE.name),
    )


@dataclass(frozen=True)
class Reading:
    """What NLU made of one message: the intent ranking and the encoder's evidence."""

    text: str
    ranking: Tuple[Tuple[str, float], ...]
    evidence: Optional[Evidence] = None

    @classmethod
    def from_parse(cls, parse: Mapping) -> Reading:
        """From a tracker's `latest_message` (or `/model/parse`)."""
        ranking = [
            (str(r.get("name")), float(r.get("confidence") or 0.0))
            for r in parse.get("intent_ranking") or ()
            if r.get("name")
        ]
        intent = parse.get("intent") or {}
        if not ranking and intent.get("name"):
            ranking = [(str(intent["name"]), float(intent.get("confidence") or 0.0))]
        from bot.nlu.evidence import EVIDENCE_KEY

        return cls(
            text=str(parse.get("text") or ""),
            ranking=tuple(ranking),
            evidence=Evidence.from_dict(parse.get(EVIDENCE_KEY)),
        )

    @property
    def confidences(self) -> Dict[str, float]:
        out: Dict[str, float] = {}
        for name, confidence in self.ranking:
            if name != FALLBACK:
                out.setdefault(name, confidence)
        return out

    @property
    def top(self) -> Tuple[str, float]:
        """The classifier's own first choice (behind a fallback marker, if any)."""
        ranked = [(n, c) for n, c in self.ranking if n != FALLBACK]
        return ranked[0] if ranked else ("", 0.0)

    def best_section(self) -> Tuple[Optional[str], float]:
        sections = [
            (c, n[len(SECTION_PREFIX) :])
            for n, c in self.confidences.items()
            if is_section_intent(n)
        ]
        if not sections:
            return None, 0.0
        confidence, section = max(sections)
        return section, confidence

    @property
    def policy_mass(self) -> float:
        """The belief on policy questions: sections and the policy's silence (how requests are
        handled here is not a policy question)."""
        return sum(
            c
            for n, c in self.confidences.items()
            if n.startswith(SECTION_PREFIX) and n != PROCESS_INTENT
        )


@dataclass(frozen=True)
class Decision:
    kind: str
    sections: Tuple[str, ...] = ()
    topic: Optional[Topic] = None
    confidence: float = 0.0
    parts: Tuple[str, ...] = ()  # the question's parts, one per section, for a two-part answer

    @property
    def abstains(self) -> bool:
        return self.kind in (CLOSEST, NOT_COVERED)


def _part_is_read(part: Part, reading: Reading, thresholds: Thresholds) -> bool:
    """A part reads as its section on its own, or half as surely on its own while the whole
    message also leans that way ("where is it kept" says little without "my data" before it)."""
    if part.confidence >= thresholds.part:
        return True
    whole = reading.confidences.get(part.intent, 0.0)
    return part.confidence >= thresholds.part / 2 and whole >= thresholds.part / 2


def _two_parts(
    reading: Reading, thresholds: Thresholds, known_sections: Sequence[str]
) -> Optional[Decision]:
    """Both sections when a message asks two policy questions and each part is read as one."""
    parts = reading.evidence.parts if reading.evidence else ()
    if len(parts) < 2:
        return None
    sections: List[str] = []
    texts: List[str] = []
    for part in parts:
        section = part.intent[len(SECTION_PREFIX) :]
        if (
            not part.intent.startswith(SECTION_PREFIX)
            or section not in known_sections
            or not _part_is_read(part, reading, thresholds)
        ):
            return None
        if section not in sections:
            sections.append(section)
            texts.append(part.text)
    if len(sections) < 2:
        return None
    confidence = min(p.confidence for p in parts)
    return Decision(DIRECT, tuple(sections), confidence=confidence, parts=tuple(texts))


def _about_privacy(reading: Reading, topic: Topic, thresholds: Thresholds) -> bool:
    """A topic word counts unless the classifier is sure this is not a privacy question
    ("how long does a meeting last" is not about retention)."""
    if topic.needs_required_word or reading.policy_mass >= thresholds.closest:
        return True
    return reading.confidences.get(OUT_OF_SCOPE, 0.0) < thresholds.out_of_scope


def _open_topic(reading: Reading, topic: Topic, thresholds: Thresholds) -> Decision:
    if topic.status == SILENT:
        return Decision(NOT_COVERED, topic=topic, confidence=reading.policy_mass)
    # Partly covered: quote where the text touches it. Of the topic's sections, the one the
    # classifier is surest of, when it is sure enough; otherwise the map's first.
    confidences = reading.confidences
    ranked = sorted(topic.sections, key=lambda s: -confidences.get(SECTION_PREFIX + s, 0.0))
    best = ranked[0]
    if confidences.get(SECTION_PREFIX + best, 0.0) < thresholds.closest:
        best = topic.sections[0]
    return Decision(
        CLOSEST, (best,), topic=topic, confidence=confidences.get(SECTION_PREFIX + best, 0.0)
    )


def _silence(reading: Reading) -> float:
    found = reading.evidence.silence if reading.evidence is not None else None
    return found or 0.0


def silence_verdict(reading: Reading, thresholds: Thresholds) -> Optional[bool]:
    """Whether the silence classifier takes the policy to be silent on the question (its
    probability at or above the language's threshold); None when there is no calibrated
    classifier or no probability for this message (an older model, a button payload)."""
    found = reading.evidence.silence if reading.evidence is not None else None
    if thresholds.silence is None or found is None:
        return None
    return bool(found >= thresholds.silence)


def _policy_question(reading: Reading, thresholds: Thresholds) -> bool:
    top, _ = reading.top
    return reading.policy_mass >= thresholds.policy_mass or top.startswith(SECTION_PREFIX)


def decide(
    reading: Reading,
    coverage: Coverage,
    thresholds: Thresholds,
    known_sections: Sequence[str],
    support: Optional[Mapping[str, float]] = None,
) -> Decision:
    """The reply kind for a message that reached the policy-answering action. ``support``: the
    encoder's best similarity to a sentence of each section (none: no evidence floor).

    Whether the policy addresses the question is the silence classifier's verdict when there is
    one (`silence_verdict`). Silent: the topic the coverage map recognises is named, or none is.
    Addressed: `ask_not_covered` does not outweigh a section, and a cue of a silent topic does
    not make the question silent; it only keeps the answer to "the closest the policy comes"
    (the two kinds of evidence disagree, so the reply hedges). A partly covered topic the map
    recognises is quoted as the closest the policy comes either way: that reply says what the
    text says and what it leaves out, which is right whichever way the question leans. Without a
    verdict the cue words and `ask_not_covered` decide, as before the classifier."""
    match = coverage.match(reading.text)
    topic = match.topic if match and match.topic.open else None
    about = topic is not None and _about_privacy(reading, topic, thresholds)
    silent = silence_verdict(reading, thresholds)
    if topic is not None and about and (silent is not False or topic.status == PARTLY):
        return _open_topic(reading, topic, thresholds)
    if silent and _policy_question(reading, thresholds):
        return Decision(NOT_COVERED, confidence=_silence(reading))
    hedged = silent is False and about  # a silent topic's cue, overruled by the classifier
    both = None if hedged else _two_parts(reading, thresholds, known_sections)
    if both:
        return both
    section, confidence = reading.best_section()
    not_covered = reading.confidences.get(NOT_COVERED_INTENT, 0.0) if silent is None else 0.0
    if (
        section is not None
        and section in known_sections
        and confidence >= thresholds.direct
        and confidence > not_covered
    ):
        if not hedged and (support is None or support.get(section, 1.0) >= thresholds.evidence):
            return Decision(DIRECT, (section,), confidence=confidence)
        return Decision(CLOSEST, (section,), confidence=confidence)
    top, top_confidence = reading.top
    if _policy_question(reading, thresholds):
        if (
            section is not None
            and section in known_sections
            and confidence >= thresholds.closest
            and confidence > not_covered
        ):
            return Decision(CLOSEST, (section,), confidence=confidence)
        return Decision(NOT_COVERED, confidence=max(not_covered, reading.policy_mass))
    return Decision(NOT_POLICY, confidence=top_confidence)


__all__ = [
    "CLOSEST",
    "DIRECT",
    "NOT_COVERED",
    "NOT_POLICY",
    "PARTLY",
    "Decision",
    "Reading",
    "Thresholds",
    "decide",
    "load_thresholds",
    "silence_verdict",
]
