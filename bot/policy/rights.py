"""What the policy says about each right a visitor can exercise in the chat.

Each request flow opens by quoting the policy on that right, so the visitor knows what it is
based on. Which section grants which right, and the words that find its sentences, are facts
of the kind of request (bot.requests.registry); the policy layer sits below the requests, so
they are handed in as a `Right` instead of imported. The sentences themselves come from the
parsed policy.
"""

from __future__ import annotations

from typing import List, Protocol, Tuple

from bot.core.texts import text
from bot.policy.answers import quote, select_sentences
from bot.policy.document import Policy


class Right(Protocol):
    """Where the policy grants a right: a `bot.requests.registry.RequestKind` is one."""

    @property
    def right_section(self) -> str:
        """The id of the section that grants it."""

    @property
    def right_cues(self) -> Tuple[str, ...]:
        """One cue per sentence to quote: the words that find it."""


def right_sentences(policy: Policy, right: Right) -> Tuple[str, List[str]]:
    """The heading and the verbatim sentences on a right."""
    section = policy.section(right.right_section)
    sentences = []
    for cue in right.right_cues:
        sentences += [s for s in select_sentences(policy, section, cue, limit=1)
                      if s not in sentences]
    sentences.sort(key=section.sentences.index)
    return section.heading, [s.text for s in sentences]


def right_quote(policy: Policy, right: Right) -> str:
    heading, sentences = right_sentences(policy, right)
    return text("policy.section_says", heading=heading) + "\n\n" + "\n\n".join(
        quote(s) for s in sentences)
