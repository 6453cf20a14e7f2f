"""What the policy says about each right a visitor can exercise in the chat.

Each request flow opens by quoting the policy on that right, so the visitor knows what it is
based on. Only the section and the words to look for are kept here: the sentences themselves
come from the parsed policy.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

from bot.policy.answers import quote, select_sentences
from bot.policy.document import Policy

_ACCESS_CORRECT_DELETE = ("access correct delete manage authorization",)

# request kind -> (section id, one cue per sentence to quote: the words that find it)
RIGHTS: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "deletion": ("collection", _ACCESS_CORRECT_DELETE),
    "correction": ("collection", _ACCESS_CORRECT_DELETE),
    "access": ("collection", _ACCESS_CORRECT_DELETE),
    "suspension": ("use", ("request account suspended",)),
    "unsubscribe": ("communications", ("unsubscribe prompts", "cancel service announcements")),
}


def right_sentences(policy: Policy, kind: str) -> Tuple[str, List[str]]:
    """The heading and the verbatim sentences on the right behind a request kind."""
    section_id, cues = RIGHTS[kind]
    section = policy.section(section_id)
    sentences = []
    for cue in cues:
        sentences += [s for s in select_sentences(policy, section, cue, limit=1)
                      if s not in sentences]
    sentences.sort(key=section.sentences.index)
    return section.heading, [s.text for s in sentences]


def right_quote(policy: Policy, kind: str) -> str:
    heading, sentences = right_sentences(policy, kind)
    return f"The policy section \u201c{heading}\u201d says:\n\n" + "\n\n".join(
        quote(s) for s in sentences)
