"""Whether a message is about a new request or one already made: a status lookup or a
withdrawal only for a request the visitor speaks of as made, since walking someone who wants
their data deleted into withdrawing a request they never made is the worst reading there is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Dict, Optional, Tuple

from bot.conversation.routing import OUT_OF_SCOPE, SECTION_PREFIX
from bot.core.language import normalise, registry
from bot.core.lexicon import lexicon
from bot.core.reference_shape import CODE_LENGTH
from bot.requests.registry import BY_INTENT, BY_KIND, KINDS

STATUS = "check_status"
WITHDRAW = "withdraw_request"
# A message that asks to make a request without saying which, or that could be about a new
# request or one already made: one question offers both.
WHICH_REQUEST = "make_request"
# The kind that withdrawing consent to processing is: the policy's "request that your account be
# suspended" (data/lexicon/*/requests.yml, `consent`).
CONSENT_KIND = "suspension"


@dataclass(frozen=True)
class Cues:
    """What one message says about requests, in any registered language."""

    existing: bool  # a reference, or words for a request already made
    withdraw: bool
    status: bool
    word: bool  # says "request" itself
    consent: bool
    kinds: Tuple[str, ...]  # the kinds it names, in the registry's order
    asked: Tuple[str, ...] = ()  # the kinds it asks whether, how or where to make


@cache
def _reference() -> re.Pattern[str]:
    """A reference as typed, with one of the registry's prefixes and a digit in its code."""
    prefixes = "|".join(record.prefix for record in KINDS)
    return re.compile(
        rf"(?<![a-z0-9])(?:{prefixes.lower()})[\s_\-–—]*(?=[a-z]*[0-9])[a-z0-9]{{{CODE_LENGTH}}}"
        r"(?![a-z0-9])"
    )


@cache
def _patterns(key: str) -> Tuple[re.Pattern[str], ...]:
    return tuple(lexicon(code).pattern(f"requests.{key}") for code in registry().codes)


@cache
def _kind_patterns() -> Dict[str, Tuple[re.Pattern[str], ...]]:
    """Each registered kind's patterns, one per language (a kind without words names nothing)."""
    found: Dict[str, Tuple[re.Pattern[str], ...]] = {}
    for record in KINDS:
        patterns = []
        for code in registry().codes:
            words = lexicon(code).mapping("requests.kinds").get(record.kind)
            if words:
                patterns.append(re.compile(words))
        found[record.kind] = tuple(patterns)
    return found


@cache
def _kind_unless() -> Dict[str, Tuple[re.Pattern[str], ...]]:
    """What makes a kind's words mean something else, per kind, one pattern per language."""
    return {
        record.kind: tuple(
            re.compile(lexicon(code).mapping("requests.kinds_unless").get(record.kind, "(?!)"))
            for code in registry().codes
        )
        for record in KINDS
    }


@cache
def _asking() -> Tuple[Tuple[re.Pattern[str], int], ...]:
    """Each language's asking words, and how far after them a kind's words may start."""
    return tuple(
        (
            lexicon(code).pattern("requests.asking"),
            int(lexicon(code).words("requests.asking_reach")[0]),
        )
        for code in registry().codes
    )


def _asked(plain: str, kinds: Tuple[str, ...]) -> Tuple[str, ...]:
    """The named kinds whose words follow a language's asking words closely."""
    ends = [(m.end(), reach) for pattern, reach in _asking() for m in pattern.finditer(plain)]
    return tuple(
        kind
        for kind in kinds
        if any(
            0 <= found.start() - end <= reach
            for end, reach in ends
            for pattern in _kind_patterns()[kind]
            for found in pattern.finditer(plain)
        )
    )


def _any(key: str, text: str) -> bool:
    return any(pattern.search(text) for pattern in _patterns(key))


@lru_cache(maxsize=1024)
def cues(text: str) -> Cues:
    """Read once per message: the NLU component asks both `revised` and `not_made`."""
    plain = normalise(text or "").lower()
    kinds = tuple(
        kind
        for kind, patterns in _kind_patterns().items()
        if any(pattern.search(plain) for pattern in patterns)
        and not any(unless.search(plain) for unless in _kind_unless()[kind])
    )
    return Cues(
        existing=bool(_reference().search(plain)) or _any("existing", plain),
        withdraw=_any("withdraw", plain),
        status=_any("status", plain),
        word=_any("word", plain),
        consent=_any("consent", plain),
        kinds=kinds,
        asked=_asked(plain, kinds),
    )


def revised(intent: Optional[str], text: str) -> Optional[str]:
    """The intent the message should have instead of the classifier's, or None to keep it.

    - Status and withdrawal need a request already made. Without one, withdrawing consent is a
      suspension; a message naming one kind of request is that request; anything else gets the
      question that offers a new request and one already made.
    - Said of a request already made, a withdrawal word makes a withdrawal and a status word a
      status lookup, whichever of the two the classifier chose.
    - A request intent said of a request already made, with a withdrawal or status word and no
      wish of its own, is that withdrawal or lookup ("cancel my deletion request").
    - Asking to make a request that names its kind is that request; so is a question read as a
      policy question (or out of scope) that asks whether, how or where the visitor can do
      what one kind of request does ("can I export my chat history")."""
    if intent and (intent.startswith(SECTION_PREFIX) or intent == OUT_OF_SCOPE):
        said = cues(text)
        made = said.existing or said.status
        return BY_KIND[said.asked[0]].intent if len(said.asked) == 1 and not made else None
    if intent not in (STATUS, WITHDRAW, WHICH_REQUEST) and intent not in BY_INTENT:
        return None
    said = cues(text)
    if intent == WHICH_REQUEST:
        made = said.existing or said.status
        return BY_KIND[said.kinds[0]].intent if len(said.kinds) == 1 and not made else None
    if intent in (STATUS, WITHDRAW):
        if said.consent and intent == WITHDRAW and not said.existing:
            return BY_KIND[CONSENT_KIND].intent
        if not _made(intent, said):
            if len(said.kinds) == 1:
                return BY_KIND[said.kinds[0]].intent
            return WHICH_REQUEST
        return _existing(intent, said)
    if said.existing and said.word and (said.withdraw or said.status):
        return _existing(intent, said)
    return None


def not_made(intent: Optional[str], text: str) -> bool:
    """Whether a status lookup or a withdrawal is out of the question for the message: it says
    nothing of a request already made (so neither may even tie with what it asks for)."""
    return not _made(intent or "", cues(text))


def _made(intent: str, said: Cues) -> bool:
    """Whether the message is about a request already made: a reference or words for one; a
    status question (only a request made has a status); withdrawing something called a
    request."""
    return said.existing or said.status or (intent == WITHDRAW and said.withdraw and said.word)


def _existing(intent: str, said: Cues) -> Optional[str]:
    """Status or withdrawal, for a message about a request already made."""
    if said.withdraw and not said.status:
        wanted = WITHDRAW
    elif said.status and not said.withdraw:
        wanted = STATUS
    else:
        wanted = intent if intent in (STATUS, WITHDRAW) else STATUS
    return wanted if wanted != intent else None
