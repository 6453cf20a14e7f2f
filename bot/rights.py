"""What the policy says about each right a visitor can ask to exercise in the chat.

Until the request flows exist, a request intent is answered with the policy's own words on that
right; later the same lookup introduces each flow. Only the section and the words to look for are
kept here: the sentences themselves come from the parsed policy.
"""

from __future__ import annotations

from typing import Dict, Tuple

from bot.answers import Reply, contact_line, quote, select_sentences
from bot.policy import Policy

_ACCESS_CORRECT_DELETE = ("access correct delete manage authorization",)

# intent -> (section id, one cue per sentence to quote: the words that find it)
RIGHTS: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "request_deletion": ("collection", _ACCESS_CORRECT_DELETE),
    "request_correction": ("collection", _ACCESS_CORRECT_DELETE),
    "request_access": ("collection", _ACCESS_CORRECT_DELETE),
    "request_suspension": ("use", ("request account suspended",)),
    "request_unsubscribe": ("communications", ("unsubscribe prompts",
                                               "cancel service announcements")),
}


def explain_right(policy: Policy, intent: str) -> Reply:
    section_id, cues = RIGHTS[intent]
    section = policy.section(section_id)
    sentences = []
    for cue in cues:
        sentences += [s for s in select_sentences(policy, section, cue, limit=1) if s not in sentences]
    sentences.sort(key=section.sentences.index)
    quoted = "\n\n".join(quote(s.text) for s in sentences)
    text = (
        f"The policy section \u201c{section.heading}\u201d says:\n\n{quoted}\n\n"
        "I can't take this request in the chat yet. Until I can, please write to the Legal "
        f"department, the only contact the policy gives: {contact_line(policy)}."
    )
    return Reply(text=text, section_id=section.id, quoted=tuple(s.text for s in sentences))
