"""What the policy says about each right a visitor can exercise in the chat.

Each request flow opens by quoting the policy on that right, so the visitor knows what it is
based on. Which section grants which right, and the words that find its sentences, are facts
of the kind of request (bot.requests.registry); the policy layer sits below the requests, so
they are handed in as a `Right` instead of imported. The sentences themselves come from the
parsed policy.
"""

from __future__ import annotations

from typing import List, Protocol, Tuple

from bot.core.texts import DEFAULT_LANGUAGE, text
from bot.policy.answers import cited_heading, quoted, select_sentences
from bot.policy.document import Policy, Sentence


class Right(Protocol):
    """Where the policy grants a right: a `bot.requests.registry.RequestKind` is one."""

    @property
    def right_section(self) -> str:
        """The id of the section that grants it."""

    @property
    def right_cues(self) -> Tuple[str, ...]:
        """One cue per sentence to quote: the words that find it."""


def _sentences(policy: Policy, right: Right) -> List[Sentence]:
    section = policy.section(right.right_section)
    sentences: List[Sentence] = []
    for cue in right.right_cues:  # English cues, matched against the English text
        sentences += [
            s for s in select_sentences(policy, section, cue, limit=1) if s not in sentences
        ]
    sentences.sort(key=section.sentences.index)
    return sentences


def right_sentences(policy: Policy, right: Right) -> Tuple[str, List[str]]:
    """The heading and the verbatim sentences on a right."""
    return policy.section(right.right_section).heading, [s.text for s in _sentences(policy, right)]


def right_quote(policy: Policy, right: Right, language: str = DEFAULT_LANGUAGE) -> str:
    """What the policy says on a right, under its heading; in another language the heading has
    its translated name beside it and each sentence its reference translation after it. The same
    sentences in every language: the cues find them in the English text."""
    section = policy.section(right.right_section)
    return (
        text("policy.section_says", language, heading=cited_heading(policy, section, language))
        + "\n\n"
        + quoted(policy, section, _sentences(policy, right), language)
    )
