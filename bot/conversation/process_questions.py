"""Which fact about how requests are handled here a question asks for.

The facts are few and each has its own words ("how long", "who handles", "code", "withdraw"),
so a small, explainable reading picks them: each language's cues of each fact
(`process.cues.<fact>` in data/lexicon/<language>/process.yml), found as the coverage map finds
its cues (whole words, or substrings of a language written without spaces). A cue inside a
longer one found in the same question counts only as the longer one ("verify" inside "after I
verify", 多久 inside 验证码多久); a fact scores the weight of its cues (words, or characters), and
the best fact wins. Two facts that tie are both answered; no cue, or a tie of more, is the
overview of the whole process. Plain Python: no model, no Rasa.
"""

from __future__ import annotations

from functools import cache
from typing import Dict, List, Tuple

from bot.core.language import registry
from bot.core.lexicon import lexicon
from bot.policy.coverage import Coverage, Cues, Question

CUES = "process.cues"
ABOUT_REQUESTS = "process.about_requests"
MAX_FACTS = 2  # facts that tie and are both answered; more is a question for the overview


@cache
def _reader() -> Coverage:
    """The coverage map's reading of a question (its words, its normalised text, the languages
    tried on it), without the map's topics."""
    return Coverage((), registry())


@cache
def _fact_cues() -> Dict[str, Dict[str, Cues]]:
    """fact -> language -> its cues, the facts in the default language's order."""
    out: Dict[str, Dict[str, Cues]] = {}
    for language in registry().languages:
        for fact, words in lexicon(language.code).groups(CUES).items():
            out.setdefault(fact, {})[language.code] = Cues.parse(words, language.by_characters)
    return out


@cache
def _about_requests() -> Dict[str, Cues]:
    return {
        language.code: Cues.parse(
            lexicon(language.code).words(ABOUT_REQUESTS), language.by_characters
        )
        for language in registry().languages
    }


def facts() -> Tuple[str, ...]:
    """The facts the lexicon has cues for, in the default language's order."""
    return tuple(_fact_cues())


def _weight(cue: str, by_characters: bool) -> int:
    return len(cue) if by_characters else len(cue.split())


def scores(question: str) -> Dict[str, int]:
    """Each cued fact's weight in the question (a fact with no cue in it is left out)."""
    read: Question = _reader().read(question)
    found: List[Tuple[str, str, int]] = []
    for fact, by_language in _fact_cues().items():
        for code in read.languages:
            cues = by_language.get(code)
            if cues:
                found += [(fact, cue, _weight(cue, cues.by_characters)) for cue in cues.found(read)]
    totals: Dict[str, int] = {}
    for fact, cue, weight in found:
        if any(cue != other and cue in other for _, other, _ in found):
            continue  # inside a longer cue found in the same question
        totals[fact] = totals.get(fact, 0) + weight
    return totals


def choose(question: str) -> Tuple[str, ...]:
    """The facts the question asks for, best first: one, or two that tie; () for the overview
    (no cue, or more than two facts tie)."""
    totals = scores(question)
    if not totals:
        return ()
    best = max(totals.values())
    top = tuple(fact for fact in facts() if totals.get(fact) == best)
    return top if len(top) <= MAX_FACTS else ()


def about_requests(question: str) -> bool:
    """The question speaks of a request made here (`process.about_requests`): "how long until
    you answer my request", not "how long do you keep my data"."""
    read = _reader().read(question)
    cues = _about_requests()
    return any(cues[code].any_in(read) for code in read.languages if code in cues)
