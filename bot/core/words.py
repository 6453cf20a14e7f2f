"""Word matching between a visitor's question and the policy's sentences.

Deliberately small and deterministic: the policy has ~60 sentences, so a stemmed bag of words
with a few dozen synonyms picks the sentences that answer a question well enough, and it runs in
microseconds inside the action server without loading a model.
"""

from __future__ import annotations

import re
from typing import Dict, FrozenSet, Iterable, List, Set

_WORD = re.compile(r"[a-z0-9]+")

STOPWORDS: FrozenSet[str] = frozenset(
    """a about above after again all also am an and any anyone are as at be because been before
    being below between both but by can could did do does doing done down during each either else
    few for from further get gets getting give go goes going got had has have having he her here
    hers him his how i if in into is it its itself just know let like may me might more most must
    my myself no nor not now of off on once only or other our ours out over own please same shall
    she should so some such tell than that the their theirs them then there these they this those
    through to too under until up us very want was way we were what when where which while who whom
    why will with would yes yet you your yours yourself hi hello thanks thank ok okay weidijia
    videopro cloud meeting policy privacy personal information data info""".split()
)
"""Words that carry no topic. Product, policy and "personal data" words are here because every
sentence of the policy is about them: they would make every sentence match."""

# Question words -> words the policy uses for the same idea. Written as plain words and stemmed
# once at import, so the table reads naturally and always agrees with `stem`.
_SYNONYM_TEXT = {
    "safe": "protect security",
    "safety": "protect security",
    "secure": "protect security",
    "security": "protect",
    "protect": "security",
    "protection": "security",
    "encrypt": "ssl encryption",
    "encrypted": "ssl encryption",
    "encryption": "ssl",
    "ssl": "encryption",
    "card": "credit",
    "payment": "credit card",
    "pay": "credit card",
    "hack": "hacker attacks unauthorized",
    "hacked": "hacker attacks unauthorized",
    "hacker": "attacks",
    "hackers": "attacks",
    "steal": "theft leakage",
    "stolen": "theft leakage",
    "stole": "theft leakage",
    "leak": "leakage disclosure",
    "leaked": "leakage disclosure",
    "sell": "rent",
    "sold": "sell rent",
    "selling": "rent",
    "rent": "sell",
    "besides": "third parties subsidiaries",
    "partner": "third parties providers",
    "partners": "third parties providers",
    "companies": "third parties subsidiaries",
    "country": "territory china foreign stored",
    "countries": "territory china foreign stored",
    "where": "stored territory",
    "kept": "stored",
    "keep": "stored",
    "servers": "server stored",
    "overseas": "foreign outside transfer",
    "abroad": "foreign outside transfer",
    "international": "foreign outside transfer",
    "sent": "transfer",
    "email": "mail letters",
    "emails": "mail letters",
    "mail": "email letters",
    "newsletter": "promotional mail",
    "newsletters": "promotional mail",
    "spam": "promotional unsubscribe",
    "survey": "surveys questionnaires",
    "marketing": "promotional",
    "ads": "promotional",
    "advertising": "promotional",
    "opt": "unsubscribe",
    "stop": "unsubscribe cancel",
    "kid": "children minors",
    "kids": "children minors",
    "child": "children minors",
    "teen": "minor age 14",
    "teenager": "minors age 14",
    "teenagers": "minors age 14",
    "young": "minors age",
    "old": "age",
    "year": "age",
    "parent": "guardian parents",
    "parents": "guardian",
    "consent": "consent guardian",
    "permission": "consent",
    "responsible": "liable",
    "blame": "liable",
    "fault": "liable",
    "liability": "liable",
    "friend": "others sharing",
    "someone": "others",
    "contact": "contact email address",
    "reach": "contact address",
    "write": "email address",
    "send": "email",
    "question": "questions comments",
    "complaint": "comments questions",
    "feedback": "comment",
    "lawyer": "legal department",
    "legal": "department",
    "change": "changed updated",
    "changes": "changed updated",
    "update": "changed version",
    "new": "updated version",
    "notify": "inform",
    "notified": "inform",
    "tell": "inform",
    "valid": "effective date",
    "since": "effective date",
    "start": "effective date",
    "date": "effective",
    "cover": "applies",
    "apply": "applies globally",
    "worldwide": "globally",
    "company": "technology ltd",
    "who": "technology ltd",
    "define": "refers identify",
    "definition": "refers identify",
    "mean": "refers identify",
    "means": "refers identify",
    "count": "identify including",
    "counts": "identify including",
    "gather": "collect",
    "why": "reasons purpose",
    "need": "reasons purpose",
    "purpose": "reasons use",
    "erase": "delete",
    "remove": "delete",
    "fix": "correct",
    "copy": "access",
    "pause": "suspended",
    "freeze": "suspended",
    "suspend": "suspended",
}


def _stemmed_synonyms(table: Dict[str, str]) -> Dict[str, FrozenSet[str]]:
    out: Dict[str, Set[str]] = {}
    for key, value in table.items():
        out.setdefault(stem(key), set()).update(stem(v) for v in value.split())
    return {k: frozenset(v) for k, v in out.items()}


_SUFFIXES = (
    "ations",
    "ation",
    "ions",
    "ion",
    "ings",
    "ing",
    "ies",
    "ied",
    "ers",
    "er",
    "es",
    "ed",
    "ly",
    "s",
    "y",
    "e",
)


def stem(word: str) -> str:
    """A crude suffix stripper: enough to make "protecting", "protects" and "protection" meet."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stemmed = word[: -len(suffix)]
            if suffix in ("ies", "ied", "y"):
                stemmed += "i"
            return stemmed
    return word


SYNONYMS = _stemmed_synonyms(_SYNONYM_TEXT)


def words(text: str) -> List[str]:
    return _WORD.findall(text.lower())


def terms(text: str) -> Set[str]:
    """Stemmed content words of a text."""
    return {stem(w) for w in words(text) if w not in STOPWORDS}


def query_terms(text: str) -> Set[str]:
    """Stemmed content words of a question, widened by the synonyms the policy uses."""
    out: Set[str] = set()
    for word in words(text):
        stemmed = stem(word)
        if word not in STOPWORDS:
            out.add(stemmed)
        out |= SYNONYMS.get(stemmed, frozenset())
    return out


def contains_any(text: str, needles: Iterable[str]) -> bool:
    lowered = f" {' '.join(words(text))} "
    return any(f" {needle} " in lowered for needle in needles)
