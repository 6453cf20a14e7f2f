"""What the policy could not answer, logged (masked) for the legal department."""

from __future__ import annotations

import logging

from actions.store_access import services
from bot.conversation.policy_reply import Answered
from bot.policy.gaps import AnswerRef

log = logging.getLogger(__name__)
LANGUAGE = "en"  # of an answer whose caller names no language


def answer_ref(answered: Answered, question: str, language: str = LANGUAGE) -> AnswerRef:
    """What the gap log and the rating keep of an answer: `language` is the conversation's."""
    decision = answered.decision
    return AnswerRef(
        kind=decision.kind,
        sections=tuple(decision.sections),
        topic=decision.topic.id if decision.topic else None,
        language=language,
        question=question,
    )


def record_gap(ref: AnswerRef) -> None:
    """A failure to write the statistic must not cost the visitor the answer."""
    try:
        services().gaps.record(
            question=ref.question,
            reply_kind=ref.kind,
            topic=ref.topic,
            sections=ref.sections,
            language=ref.language,
        )
    except Exception as error:  # noqa: BLE001 - the answer matters more than the statistic
        log.warning("Could not record an unanswered question: %s", type(error).__name__)
