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
from bot.nlu.evidence import by_section
from bot.policy import answers
from bot.policy.answers import Reply
from bot.policy.coverage import Coverage, load_coverage
from bot.policy.document import Policy


@dataclass(frozen=True)
class Answered:
    decision: Decision
    reply: Optional[Reply]  # None when the message is not a policy question after all


def _scores(policy: Policy, reading: Reading,
            part: Optional[int] = None) -> Dict[str, List[float]]:
    evidence = reading.evidence
    if evidence is None:
        return {}
    scores: Sequence[float] = evidence.scores
    if part is not None and part < len(evidence.parts):
        scores = evidence.parts[part].scores
    return by_section(policy, scores, evidence.digest) or {}


def render(policy: Policy, decision: Decision, reading: Reading) -> Optional[Reply]:
    question = reading.text
    if decision.kind == DIRECT:
        if decision.parts:
            parts: List[Tuple[str, str, Optional[Sequence[float]]]] = []
            for index, (section_id, text) in enumerate(zip(decision.sections, decision.parts,
                                                                  strict=True)):
                parts.append((section_id, text, _scores(policy, reading, index).get(section_id)))
            return answers.answer_from_sections(policy, parts)
        section_id = decision.sections[0]
        return answers.answer_from_section(policy, section_id, question,
                                           _scores(policy, reading).get(section_id))
    if decision.kind == CLOSEST:
        section_id = decision.sections[0]
        topic = decision.topic
        return answers.closest(
            policy, section_id, question, topic.name if topic else None,
            leaves_out=topic.leaves_out if topic else "",
            evidence=topic.evidence if topic else (),
            scores=_scores(policy, reading).get(section_id))
    if decision.kind == NOT_COVERED:
        return answers.not_covered(policy, decision.topic.name if decision.topic else None)
    return None


def support(policy: Policy, reading: Reading) -> Optional[Dict[str, float]]:
    """Each section's best sentence similarity to the question; None without evidence."""
    scores = _scores(policy, reading)
    return {section: max(values) for section, values in scores.items()} if scores else None


def answer(policy: Policy, reading: Reading, coverage: Optional[Coverage] = None,
           thresholds: Optional[Thresholds] = None) -> Answered:
    decision = decide(reading, coverage or load_coverage(), thresholds or load_thresholds(),
                      policy.section_ids, support(policy, reading))
    return Answered(decision, render(policy, decision, reading))
