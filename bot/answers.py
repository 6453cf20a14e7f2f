"""Replies built from the parsed policy: quoted sentences, the cited heading, and honest gaps.

Every reply that speaks for the policy quotes it verbatim and names the section it comes from.
Where the text announces a list or an e-mail address and never gives it, the reply says so
instead of filling the hole. Nothing in this module knows what the policy says: it only selects.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple

from bot import text as textutil
from bot.policy import Gap, Policy, Section, Sentence

MAX_QUOTED = 2
SHOW_SECTION_BUTTON = {"title": "Show the whole section", "payload": "/tell_more"}
CONNECT_BUTTON = {"title": "Connect me with a person", "payload": "/human_handoff"}
NO_THANKS_BUTTON = {"title": "No, thanks", "payload": "/deny"}
_ITEM = re.compile(r"^\d\. ")
_CONTACT_WORDS = ("contact", "email", "mail", "address", "reach", "write", "question",
                  "questions", "complain", "complaint", "touch")


@dataclass(frozen=True)
class Reply:
    """What the assistant says: text, optional buttons, and the section it cites (if any)."""

    text: str
    buttons: Tuple[Dict[str, str], ...] = ()
    section_id: Optional[str] = None
    quoted: Tuple[str, ...] = field(default=(), compare=False)


def quote(sentence: str) -> str:
    return f"\u201c{sentence}\u201d"


def contact_line(policy: Policy) -> str:
    """The only way to reach the company that the policy gives: the Legal department by post."""
    contact = policy.postal_contact
    return f"{contact.addressee}, {contact.address}"


def gap_note(policy: Policy, gap: Gap) -> str:
    if gap.kind == "list":
        return (
            f"Note: the text announces a list ({quote(gap.anchor)}), but the published policy "
            "does not list it: nothing follows those words."
        )
    return (
        f"Note: the text says {quote(gap.anchor)}, but the published policy does not give an "
        f"e-mail address. The only contact it gives is the postal address: {contact_line(policy)}."
    )


def candidates(policy: Policy, section: Section) -> List[Sentence]:
    """The section's sentences; the overview also owns the effective date from the title block."""
    sentences = list(section.sentences)
    if section.id == policy.sections[0].id:
        sentences.insert(0, Sentence(f"Effective date: {policy.effective_date}.", -1))
    return sentences


@lru_cache(maxsize=4)
def _idf(policy: Policy) -> Dict[str, float]:
    counts: Counter = Counter()
    total = 0
    for section in policy.sections:
        for sentence in candidates(policy, section):
            counts.update(textutil.terms(sentence.text))
            total += 1
    return {term: math.log(1 + total / n) for term, n in counts.items()}


def _score(policy: Policy, query: set, sentence: Sentence) -> float:
    idf = _idf(policy)
    return sum(idf.get(term, 0.0) for term in query & textutil.terms(sentence.text))


def _with_list_context(pool: List[Sentence], chosen: List[int]) -> List[int]:
    """An item needs its lead-in ("We are not liable for ...:"), and a lead-in needs its items."""
    picked = set(chosen)
    for index in list(chosen):
        text = pool[index].text
        if _ITEM.match(text):
            lead = index
            while lead > 0 and _ITEM.match(pool[lead].text):
                lead -= 1
            if pool[lead].text.endswith(":"):
                picked.add(lead)
        elif text.endswith(":"):
            follow = index + 1
            while follow < len(pool) and _ITEM.match(pool[follow].text):
                picked.add(follow)
                follow += 1
    return sorted(picked)


def select_sentences(policy: Policy, section: Section, question: str,
                     limit: int = MAX_QUOTED) -> List[Sentence]:
    """The sentences of ``section`` that best answer ``question``, in the order of the text."""
    pool = candidates(policy, section)
    query = textutil.query_terms(question)
    scored = [(_score(policy, query, s), i) for i, s in enumerate(pool)]
    best = max(score for score, _ in scored)
    if best <= 0:
        chosen = list(range(min(limit, len(pool))))
    else:
        ranked = sorted(scored, key=lambda pair: (-pair[0], pair[1]))
        chosen = [i for score, i in ranked[:limit] if score >= best / 2]
    return [pool[i] for i in _with_list_context(pool, chosen)]


def _notes_for(policy: Policy, section: Section, question: str,
               quoted: Sequence[Sentence]) -> List[str]:
    notes = []
    for gap in section.gaps:
        relevant = (
            gap.kind == "list"
            or section.id == "contact"
            or any(gap.anchor in s.text for s in quoted)
            or textutil.contains_any(question, _CONTACT_WORDS)
        )
        if relevant:
            notes.append(gap_note(policy, gap))
    return notes


def answer_from_section(policy: Policy, section_id: str, question: str) -> Reply:
    section = policy.section(section_id)
    chosen = select_sentences(policy, section, question)
    notes = _notes_for(policy, section, question, chosen)
    if any(n for n in notes if policy.postal_contact.address in n):
        # The note already gives the postal address; quoting the address lines again is noise.
        contact = policy.postal_contact
        kept = [s for s in chosen if contact.address not in s.text and s.text != contact.addressee]
        chosen = kept or [s for s in section.sentences if section.gap_for(s.text)][:1]
    quoted = "\n\n".join(quote(s.text) for s in chosen)
    parts = [f"The policy section \u201c{section.heading}\u201d says:", quoted, *notes]
    return Reply(
        text="\n\n".join(parts),
        buttons=(SHOW_SECTION_BUTTON,),
        section_id=section.id,
        quoted=tuple(s.text for s in chosen),
    )


def full_section(policy: Policy, section_id: str) -> Reply:
    section = policy.section(section_id)
    paragraphs = [s.text for s in candidates(policy, section) if s.paragraph < 0]
    paragraphs += list(section.paragraphs)
    notes = [gap_note(policy, gap) for gap in section.gaps]
    text = "\n\n".join([f"The full policy section \u201c{section.heading}\u201d:", *paragraphs, *notes])
    return Reply(text=text, section_id=section.id, quoted=tuple(paragraphs))


def no_section_yet() -> Reply:
    """"Tell me more" before any question: there is no section to show yet."""
    return Reply(text="Which part of the policy would you like to read? Ask me a question about "
                      "it first, and then I can show you the whole section.")


def not_covered(policy: Policy, topic: Optional[str]) -> Reply:
    """The policy is silent: say so, do not guess, and offer a person and the postal address."""
    subject = topic or "that"
    text = (
        f"I'm sorry: the policy does not say anything about {subject}, so I can't answer it from the "
        "policy and I won't guess.\n\n"
        "I can connect you with a person, or you can write to the Legal department, the only "
        f"contact the policy gives: {contact_line(policy)}.\n\nWould you like me to connect you?"
    )
    return Reply(text=text, buttons=(CONNECT_BUTTON, NO_THANKS_BUTTON))
