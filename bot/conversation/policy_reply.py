"""A policy question in, the reply out: the routing decision rendered from the policy text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from bot.conversation.routing import (
    CLOSEST,
    DIRECT,
    NOT_COVERED,
    Decision,
    Reading,
    Thresholds,
    decide,
    load_thresholds,
)
from bot.core.language import or_default
from bot.core.texts import DEFAULT_LANGUAGE
from bot.nlu.evidence import by_section
from bot.policy import answers
from bot.policy.answers import Reply
from bot.policy.coverage import Coverage, load_coverage
from bot.policy.document import Policy


@dataclass(frozen=True)
class Answered:
    decision: Decision
    reply: Optional[Reply]  # None when the message is not a policy question after all


def _scores(policy: Policy, reading: Reading, part: Optional[int] = None) -> Dict[str, List[float]]:
    evidence = reading.evidence
    if evidence is None:
        return {}
    scores: Sequence[float] = evidence.scores
    if part is not None and part < len(evidence.parts):
        scores = evidence.parts[part].scores
    return by_section(policy, scores, evidence.digest) or {}


def render(
    policy: Policy, decision: Decision, reading: Reading, language: str = DEFAULT_LANGUAGE
) -> Optional[Reply]:
    """The reply in ``language``: the same decision and the same quoted English sentences in
    every language; the framing, the topic's name and (in a language other than the policy's) the
    reference translation of each quoted sentence in the visitor's. The evidence reaches the
    sentence choice by the same route in every language (for a message in a language with a
    script of its own, NLU scores it against the translation)."""
    question = reading.text
    if decision.kind == DIRECT:
        if decision.parts:
            parts: List[Tuple[str, str, Optional[Sequence[float]]]] = []
            for index, (section_id, text) in enumerate(
                zip(decision.sections, decision.parts, strict=True)
            ):
                parts.append((section_id, text, _scores(policy, reading, index).get(section_id)))
            return answers.answer_from_sections(policy, parts, language)
        section_id = decision.sections[0]
        return answers.answer_from_section(
            policy, section_id, question, _scores(policy, reading).get(section_id), language
        )
    if decision.kind == CLOSEST:
        section_id = decision.sections[0]
        return answers.closest(
            policy,
            section_id,
            question,
            decision.topic,
            scores=_scores(policy, reading).get(section_id),
            language=language,
        )
    if decision.kind == NOT_COVERED:
        return answers.not_covered(policy, decision.topic, language)
    return None


def support(policy: Policy, reading: Reading) -> Optional[Dict[str, float]]:
    """Each section's best sentence similarity to the question; None without evidence."""
    scores = _scores(policy, reading)
    return {section: max(values) for section, values in scores.items()} if scores else None


def answer(
    policy: Policy,
    reading: Reading,
    coverage: Optional[Coverage] = None,
    thresholds: Optional[Thresholds] = None,
    language: str = DEFAULT_LANGUAGE,
) -> Answered:
    """The decision and its reply in ``language`` (a registered language; anything else is the
    default), with that language's calibrated thresholds unless some are given."""
    language = or_default(language)
    chosen = thresholds or load_thresholds(language=language)
    decision = decide(
        reading, coverage or load_coverage(), chosen, policy.section_ids, support(policy, reading)
    )
    return Answered(decision, render(policy, decision, reading, language))
