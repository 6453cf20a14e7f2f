"""Replies built from the parsed policy: quoted sentences, the cited heading, and honest gaps.

Every reply that speaks for the policy quotes it verbatim and names the section it comes from.
Where the text announces a list or an e-mail address and never gives it, the reply says so
instead of filling the hole. Nothing in this module knows what the policy says: it only selects.

Every reply can be given in the visitor's language (`language`, a registered language). The
published text is English and prevails, so a reply in another language quotes the same English
sentences verbatim, cites the published English heading with the section's translated name beside
it, and gives after each quoted sentence its reference translation (`bot.policy.translation`) under
the translation's label; the framing around the quotes comes from the catalogue in the visitor's
language, and a topic is named by the coverage map in it. An English reply is exactly what it was
before there was a second language. The words a question is read with (asking for a contact,
everyday words for the translation's) are the language's lexicon (`answers.*`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Set, Tuple

from bot.core import words as textutil
from bot.core.language import normalise, registry
from bot.core.lexicon import lexicon
from bot.core.texts import DEFAULT_LANGUAGE, button, text
from bot.policy.coverage import Topic
from bot.policy.document import Gap, Policy, Section, Sentence
from bot.policy.translation import (
    Translation,
    load_translation,
    log_misalignment,
    paragraph_translation,
    translate,
)

MAX_QUOTED = 2
# The buttons under answers (data/texts: policy.button.*); "Connect me with a person" is how
# the next "yes" knows a person was offered (actions.replies.offered_person).
SHOW_SECTION = "policy.button.show_section"
CONNECT = "policy.button.connect"
NO_THANKS = "policy.button.no_thanks"
_ITEM = re.compile(r"^\d\. ")
_HAN_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")


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


def contact_line(policy: Policy, language: str = DEFAULT_LANGUAGE) -> str:
    """The only way to reach the company that the policy gives: the Legal department by post
    (quoted from the policy in every language: an address is not translated)."""
    contact = policy.postal_contact
    return text(
        "policy.contact_line", language, addressee=contact.addressee, address=contact.address
    )


def gap_note(policy: Policy, gap: Gap, language: str = DEFAULT_LANGUAGE) -> str:
    if gap.kind == "list":
        return text("policy.gap.list", language, anchor=gap.anchor)
    return text(
        "policy.gap.email", language, anchor=gap.anchor, contact=contact_line(policy, language)
    )


@lru_cache(maxsize=4)
def _checked_translation(policy: Policy, language: str) -> Translation:
    translation = load_translation(language)
    log_misalignment(translation, policy)
    return translation


def translation_for(policy: Policy, language: str) -> Optional[Translation]:
    """The reference translation an answer in `language` gives beside the English; None for
    English, the language of the published text."""
    if language == DEFAULT_LANGUAGE:
        return None
    return _checked_translation(policy, language)


def cited_heading(policy: Policy, section: Section, language: str = DEFAULT_LANGUAGE) -> str:
    """The published English heading, exactly as sections.yml gives it; in another language with
    the section's translated name beside it:
    "Share your personal information（共享您的个人信息）"."""
    translation = translation_for(policy, language)
    return (
        translation.cited_heading(section.id, section.heading) if translation else section.heading
    )


def quoted(
    policy: Policy,
    section: Section,
    sentences: Sequence[Sentence],
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """The sentences verbatim, each in quotes; in another language each followed by its
    reference translation under the translation's label (the English text prevails)."""
    translation = translation_for(policy, language)
    if translation is None:
        return "\n\n".join(quote(s.text) for s in sentences)
    blocks = []
    for sentence in sentences:
        found = translate(policy, translation, section, sentence)
        if found is None:
            blocks.append(
                text("policy.translation.quote_untranslated", language, sentence=sentence.text)
            )
        else:
            blocks.append(
                text(
                    "policy.translation.quote",
                    language,
                    sentence=sentence.text,
                    label=translation.label,
                    translation=found,
                )
            )
    return "\n\n".join(blocks)


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


def han_bigrams(text_: str) -> Set[str]:
    """The Chinese character bigrams of a text (a lone character counts as itself), after width
    folding and Traditional-to-Simplified: Chinese has no spaces, and bigrams are the usual unit
    for matching it without a segmenter."""
    grams: Set[str] = set()
    for run in _HAN_RUN.findall(normalise(text_)):
        if len(run) == 1:
            grams.add(run)
        grams.update(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def _translated_pool(policy: Policy, section: Section, translation: Translation) -> List[str]:
    return [translate(policy, translation, section, s) or "" for s in candidates(policy, section)]


@lru_cache(maxsize=4)
def _idf_bigrams(policy: Policy, translation: Translation) -> Dict[str, float]:
    counts: Counter = Counter()
    total = 0
    for section in policy.sections:
        for translated in _translated_pool(policy, section, translation):
            counts.update(han_bigrams(translated))
            total += 1
    return {gram: math.log(1 + total / n) for gram, n in counts.items()}


def _lexical_translated(
    policy: Policy, section: Section, question: str, translation: Translation
) -> List[float]:
    """Each candidate's overlap with a question in the translation's language: the question's
    character bigrams shared with the sentence's translation, weighted by how rare they are, plus
    the English words it shares with the English sentence (a mixed question: "SSL加密吗")."""
    idf = _idf_bigrams(policy, translation)
    plain = normalise(question)
    synonyms = lexicon(translation.language).mapping("answers.synonyms")
    grams = han_bigrams(plain + " " + " ".join(v for k, v in synonyms.items() if k in plain))
    query = textutil.query_terms(question)
    pool = candidates(policy, section)
    out = []
    for sentence, translated in zip(
        pool, _translated_pool(policy, section, translation), strict=True
    ):
        score = sum(idf.get(g, 0.0) for g in grams & han_bigrams(translated))
        out.append(score + _score(policy, query, sentence))
    return out


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


def select_sentences(
    policy: Policy,
    section: Section,
    question: str,
    limit: int = MAX_QUOTED,
    scores: Optional[Sequence[float]] = None,
    language: str = DEFAULT_LANGUAGE,
) -> List[Sentence]:
    """The sentences of ``section`` that best answer ``question``, in the order of the text.

    ``scores`` are the encoder's similarities of the question to each of the section's
    `candidates` (from the NLU evidence); without them, shared words alone decide. A question
    in another language is matched against the sentences' reference translations, by shared
    character bigrams."""
    pool = candidates(policy, section)
    translation = translation_for(policy, language)
    if translation is None:
        query = textutil.query_terms(question)
        lexical = [_score(policy, query, s) for s in pool]
    else:
        lexical = _lexical_translated(policy, section, question, translation)
    if scores is not None and len(scores) == len(pool):
        top_lexical = max(lexical) or 1.0
        combined = [
            float(c) + LEXICAL_WEIGHT * w / top_lexical
            for c, w in zip(scores, lexical, strict=True)
        ]
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


def _contact_words_in(question: str, language: str) -> bool:
    """A word asking for a contact, of the language's lexicon, found as the language matches."""
    words = lexicon(language).words("answers.contact")
    if registry().get(language).by_characters:
        plain = normalise(question)
        return any(word in plain for word in words)
    return textutil.contains_any(question, words)


def _asks_for_contact(question: str, language: str) -> bool:
    """The default language's contact words count in every language (a mixed question), the
    visitor's own besides."""
    if _contact_words_in(question, DEFAULT_LANGUAGE):
        return True
    return language != DEFAULT_LANGUAGE and _contact_words_in(question, language)


def _notes_for(
    policy: Policy,
    section: Section,
    question: str,
    quoted: Sequence[Sentence],
    language: str = DEFAULT_LANGUAGE,
) -> List[str]:
    notes = []
    for gap in section.gaps:
        relevant = (
            gap.kind == "list"
            or section.id == "contact"
            or any(gap.anchor in s.text for s in quoted)
            or _asks_for_contact(question, language)
        )
        if relevant:
            notes.append(gap_note(policy, gap, language))
    return notes


def _quoted_section(
    policy: Policy,
    section: Section,
    question: str,
    scores: Optional[Sequence[float]],
    language: str = DEFAULT_LANGUAGE,
) -> Tuple[List[Sentence], List[str]]:
    chosen = select_sentences(policy, section, question, scores=scores, language=language)
    notes = _notes_for(policy, section, question, chosen, language)
    if any(n for n in notes if policy.postal_contact.address in n):
        # The note already gives the postal address; quoting the address lines again is noise.
        contact = policy.postal_contact
        kept = [s for s in chosen if contact.address not in s.text and s.text != contact.addressee]
        chosen = kept or [s for s in section.sentences if section.gap_for(s.text)][:1]
    return chosen, notes


def answer_from_section(
    policy: Policy,
    section_id: str,
    question: str,
    scores: Optional[Sequence[float]] = None,
    language: str = DEFAULT_LANGUAGE,
) -> Reply:
    return answer_from_sections(policy, [(section_id, question, scores)], language)


def answer_from_sections(
    policy: Policy,
    parts: Sequence[Tuple[str, str, Optional[Sequence[float]]]],
    language: str = DEFAULT_LANGUAGE,
) -> Reply:
    """One quoted passage per section, each under its heading: (section id, the question or the
    part of it that this section answers, the encoder's sentence scores or None)."""
    blocks: List[str] = []
    quoted_texts: List[str] = []
    for section_id, question, scores in parts:
        section = policy.section(section_id)
        chosen, notes = _quoted_section(policy, section, question, scores, language)
        blocks += [
            text("policy.section_says", language, heading=cited_heading(policy, section, language)),
            quoted(policy, section, chosen, language),
            *notes,
        ]
        quoted_texts += [s.text for s in chosen]
    first = parts[0][0]
    return Reply(
        text="\n\n".join(blocks),
        buttons=(button(SHOW_SECTION, language),),
        section_id=first,
        quoted=tuple(quoted_texts),
        section_ids=tuple(p[0] for p in parts),
    )


def evidence_sentences(policy: Policy, section: Section, quotes: Sequence[str]) -> List[Sentence]:
    """The section's sentences that contain any of ``quotes`` (the coverage map's evidence)."""
    pool = candidates(policy, section)
    return [s for s in pool if any(q in s.text for q in quotes)]


def closest(
    policy: Policy,
    section_id: str,
    question: str,
    topic: Optional[Topic],
    scores: Optional[Sequence[float]] = None,
    language: str = DEFAULT_LANGUAGE,
) -> Reply:
    """The policy does not answer exactly this: say so, name what was asked, and quote the
    nearest it comes, under its heading. A person is offered as for a silent topic.
    The coverage map's ``topic`` (None: none was recognised) is named in ``language``, with
    what the policy leaves out of it, and its evidence is quoted."""
    evidence = topic.evidence if topic else ()
    leaves_out = topic.leaves_out_in(language) if topic else ""
    section = policy.section(section_id)
    chosen = evidence_sentences(policy, section, evidence) if evidence else []
    if not chosen:
        chosen = select_sentences(policy, section, question, scores=scores, language=language)
    subject = (topic.name_in(language) if topic else "") or text("policy.closest.subject", language)
    parts = [
        text(
            "policy.closest.opening",
            language,
            subject=subject,
            heading=cited_heading(policy, section, language),
        ),
        quoted(policy, section, chosen, language),
    ]
    if leaves_out:
        parts.append(text("policy.closest.leaves_out", language, leaves_out=leaves_out))
    parts.append(text("policy.offer_person", language, contact=contact_line(policy, language)))
    return Reply(
        text="\n\n".join(parts),
        buttons=(
            button(CONNECT, language),
            button(NO_THANKS, language),
            button(SHOW_SECTION, language),
        ),
        section_id=section.id,
        quoted=tuple(s.text for s in chosen),
        section_ids=(section.id,),
    )


def _translated_paragraphs(
    policy: Policy, section: Section, translation: Translation, language: str
) -> List[str]:
    out = []
    for sentence in candidates(policy, section):
        if sentence.paragraph < 0:
            found = translate(policy, translation, section, sentence)
            out.append(_paragraph_block(sentence.text, found, translation, language))
    for index, paragraph in enumerate(section.paragraphs):
        found = paragraph_translation(translation, section, index)
        out.append(_paragraph_block(paragraph, found, translation, language))
    return out


def _paragraph_block(
    paragraph: str, found: Optional[str], translation: Translation, language: str
) -> str:
    if found is None:
        return text("policy.translation.paragraph_untranslated", language, paragraph=paragraph)
    return text(
        "policy.translation.paragraph",
        language,
        paragraph=paragraph,
        label=translation.label,
        translation=found,
    )


def full_section(policy: Policy, section_id: str, language: str = DEFAULT_LANGUAGE) -> Reply:
    """The whole section verbatim; in another language each paragraph followed by its
    reference translation."""
    section = policy.section(section_id)
    paragraphs = [s.text for s in candidates(policy, section) if s.paragraph < 0]
    paragraphs += list(section.paragraphs)
    notes = [gap_note(policy, gap, language) for gap in section.gaps]
    heading = text(
        "policy.full_section", language, heading=cited_heading(policy, section, language)
    )
    translation = translation_for(policy, language)
    shown = (
        paragraphs
        if translation is None
        else _translated_paragraphs(policy, section, translation, language)
    )
    return Reply(
        text="\n\n".join([heading, *shown, *notes]), section_id=section.id, quoted=tuple(paragraphs)
    )


def no_section_yet(language: str = DEFAULT_LANGUAGE) -> Reply:
    """ "Tell me more" before any question: there is no section to show yet."""
    return Reply(text=text("policy.no_section_yet", language))


def not_covered(policy: Policy, topic: Optional[Topic], language: str = DEFAULT_LANGUAGE) -> Reply:
    """The policy is silent: say so, do not guess, and offer a person and the postal address.
    The coverage map's ``topic`` (None: none was recognised) is named in ``language``."""
    said = text(
        "policy.not_covered",
        language,
        subject=(topic.name_in(language) if topic else "")
        or text("policy.not_covered_subject", language),
    )
    offer = text("policy.offer_person", language, contact=contact_line(policy, language))
    return Reply(
        text=f"{said}\n\n{offer}", buttons=(button(CONNECT, language), button(NO_THANKS, language))
    )
