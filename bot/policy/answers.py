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

from bot.core import words as textutil
from bot.core.texts import button, text
from bot.policy.document import Gap, Policy, Section, Sentence

MAX_QUOTED = 2
# The buttons under answers (data/texts: policy.button.*); "Connect me with a person" is how
# the next "yes" knows a person was offered (actions.replies.offered_person).
SHOW_SECTION = "policy.button.show_section"
CONNECT = "policy.button.connect"
NO_THANKS = "policy.button.no_thanks"
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
    section_ids: Tuple[str, ...] = field(default=(), compare=False)


def quote(sentence: str) -> str:
    return text("policy.quote", sentence=sentence)


def contact_line(policy: Policy) -> str:
    """The only way to reach the company that the policy gives: the Legal department by post."""
    contact = policy.postal_contact
    return text("policy.contact_line", addressee=contact.addressee, address=contact.address)


def gap_note(policy: Policy, gap: Gap) -> str:
    if gap.kind == "list":
        return text("policy.gap.list", anchor=gap.anchor)
    return text("policy.gap.email", anchor=gap.anchor, contact=contact_line(policy))


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
        line = pool[index].text
        if _ITEM.match(line):
            lead = index
            while lead > 0 and _ITEM.match(pool[lead].text):
                lead -= 1
            if pool[lead].text.endswith(":"):
                picked.add(lead)
        elif line.endswith(":"):
            follow = index + 1
            while follow < len(pool) and _ITEM.match(pool[follow].text):
                picked.add(follow)
                follow += 1
    return sorted(picked)


# How much the question's shared words add to the encoder's similarity when choosing what to
# quote: the encoder knows meaning ("13" is an age), the words keep exact terms ("SSL") in front.
LEXICAL_WEIGHT = 0.15
# A sentence is quoted when it scores at least this share of the best one.
KEEP_SHARE = 0.75


def select_sentences(policy: Policy, section: Section, question: str,
                     limit: int = MAX_QUOTED,
                     scores: Optional[Sequence[float]] = None) -> List[Sentence]:
    """The sentences of ``section`` that best answer ``question``, in the order of the text.

    ``scores`` are the encoder's similarities of the question to each of the section's
    `candidates` (from the NLU evidence); without them, shared words alone decide."""
    pool = candidates(policy, section)
    query = textutil.query_terms(question)
    lexical = [_score(policy, query, s) for s in pool]
    if scores is not None and len(scores) == len(pool):
        top_lexical = max(lexical) or 1.0
        combined = [float(c) + LEXICAL_WEIGHT * w / top_lexical for c, w in zip(scores, lexical,
                                                                                strict=True)]
        floor = KEEP_SHARE
    else:
        combined = lexical
        floor = 0.5
    best = max(combined)
    if best <= 0:
        chosen = list(range(min(limit, len(pool))))
    else:
        ranked = sorted(range(len(pool)), key=lambda i: (-combined[i], i))
        chosen = [i for i in ranked[:limit] if combined[i] >= best * floor]
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


def _quoted_section(policy: Policy, section: Section, question: str,
                    scores: Optional[Sequence[float]]) -> Tuple[List[Sentence], List[str]]:
    chosen = select_sentences(policy, section, question, scores=scores)
    notes = _notes_for(policy, section, question, chosen)
    if any(n for n in notes if policy.postal_contact.address in n):
        # The note already gives the postal address; quoting the address lines again is noise.
        contact = policy.postal_contact
        kept = [s for s in chosen if contact.address not in s.text and s.text != contact.addressee]
        chosen = kept or [s for s in section.sentences if section.gap_for(s.text)][:1]
    return chosen, notes


def answer_from_section(policy: Policy, section_id: str, question: str,
                        scores: Optional[Sequence[float]] = None) -> Reply:
    return answer_from_sections(policy, [(section_id, question, scores)])


def answer_from_sections(policy: Policy,
                         parts: Sequence[Tuple[str, str, Optional[Sequence[float]]]]) -> Reply:
    """One quoted passage per section, each under its heading: (section id, the question or the
    part of it that this section answers, the encoder's sentence scores or None)."""
    blocks: List[str] = []
    quoted: List[str] = []
    for section_id, question, scores in parts:
        section = policy.section(section_id)
        chosen, notes = _quoted_section(policy, section, question, scores)
        blocks += [text("policy.section_says", heading=section.heading),
                   "\n\n".join(quote(s.text) for s in chosen), *notes]
        quoted += [s.text for s in chosen]
    first = parts[0][0]
    return Reply(text="\n\n".join(blocks), buttons=(button(SHOW_SECTION),), section_id=first,
                 quoted=tuple(quoted), section_ids=tuple(p[0] for p in parts))


def evidence_sentences(policy: Policy, section: Section, quotes: Sequence[str]) -> List[Sentence]:
    """The section's sentences that contain any of ``quotes`` (the coverage map's evidence)."""
    pool = candidates(policy, section)
    return [s for s in pool if any(q in s.text for q in quotes)]


def closest(policy: Policy, section_id: str, question: str, topic_name: Optional[str],
            leaves_out: str = "", evidence: Sequence[str] = (),
            scores: Optional[Sequence[float]] = None) -> Reply:
    """The policy does not answer exactly this: say so, name what was asked, and quote the
    nearest it comes, under its heading. A person is offered as for a silent topic."""
    section = policy.section(section_id)
    chosen = evidence_sentences(policy, section, evidence) if evidence else []
    if not chosen:
        chosen = select_sentences(policy, section, question, scores=scores)
    subject = topic_name or text("policy.closest.subject")
    parts = [text("policy.closest.opening", subject=subject, heading=section.heading),
             "\n\n".join(quote(s.text) for s in chosen)]
    if leaves_out:
        parts.append(text("policy.closest.leaves_out", leaves_out=leaves_out))
    parts.append(text("policy.offer_person", contact=contact_line(policy)))
    return Reply(text="\n\n".join(parts),
                 buttons=(button(CONNECT), button(NO_THANKS), button(SHOW_SECTION)),
                 section_id=section.id, quoted=tuple(s.text for s in chosen),
                 section_ids=(section.id,))


def full_section(policy: Policy, section_id: str) -> Reply:
    section = policy.section(section_id)
    paragraphs = [s.text for s in candidates(policy, section) if s.paragraph < 0]
    paragraphs += list(section.paragraphs)
    notes = [gap_note(policy, gap) for gap in section.gaps]
    heading = text("policy.full_section", heading=section.heading)
    return Reply(text="\n\n".join([heading, *paragraphs, *notes]), section_id=section.id,
                 quoted=tuple(paragraphs))


def no_section_yet() -> Reply:
    """"Tell me more" before any question: there is no section to show yet."""
    return Reply(text=text("policy.no_section_yet"))


def not_covered(policy: Policy, topic: Optional[str]) -> Reply:
    """The policy is silent: say so, do not guess, and offer a person and the postal address."""
    said = text("policy.not_covered", subject=topic or text("policy.not_covered_subject"))
    offer = text("policy.offer_person", contact=contact_line(policy))
    return Reply(text=f"{said}\n\n{offer}", buttons=(button(CONNECT), button(NO_THANKS)))
