"""Verification codes kept out of the transcripts people read (issue 23).

A transcript is stored with a request or a handoff ticket and shown on the staff pages. What the
visitor typed at the code step is a code that was live when typed (and, after a lost check,
may still be): it proves nothing to anyone who reads it later, so it is masked. Only there, and
only what can be a code, so that a request reference (`DEL-123456`), a phone number or a date
the visitor wrote stays as it was.

Which lines answer the code step: the action server knows it from the conversation's events
(`actions.transcripts` passes their indexes); for a transcript stored before this masking, the
line after one of the assistant's questions for a code (`_code_prompts`, in every language of
the catalogue) is taken for an answer, and so is the line after an apology for such an answer
(`fault.*`), the visitor typing it again.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Collection, List, Mapping, Optional, Sequence, Tuple

from bot.core import texts
from bot.core.masking import CODE_PLACEHOLDER, half_width, reference_spans
from bot.requests.references import PREFIXES
from bot.requests.verification import CODE_DIGITS

VISITOR = "visitor"  # a transcript line's `from` (actions.transcripts)

# What may stand between the digits of a code as typed: `validators.verification_code` drops
# spaces and dashes; a dot or an ideographic space is read the same way here.
_SEPARATOR = r"[\s.\-\u3000]{1,3}"
# Digit groups joined by separators: "123456", "123 456", "12-34-56", "1 2 3 4 5 6".
_DIGIT_RUN = re.compile(rf"[0-9]+(?:{_SEPARATOR}[0-9]+)*")
_GROUP = re.compile(r"[0-9]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Three capitals that are no kind's prefix, a space and six digits ("AAA 123456", "OTP 123456")
# read as a reference typed in capitals and as a code after a word; where codes are masked the
# code wins. A kind's own prefix ("DEL 123456") stays a reference.
_CODE_AFTER_A_WORD = re.compile(
    rf"(?!(?:{'|'.join(PREFIXES.values())})\s)[A-Za-z]{{3}}\s+[0-9]{{{CODE_DIGITS}}}",
    re.IGNORECASE,
)

# Stands for a value filled into a catalogue text: it matches any text (`_pattern`).
_ANY = "\x00"


def _code_prompts(language: str) -> List[str]:
    """The assistant's questions for a code, and its replies that ask for it again, with `_ANY`
    for the values that vary."""
    return [
        texts.text("flow.code.sent", language, email=_ANY),
        texts.text("flow.code.resent", language),
        texts.text("flow.code.wrong.one", language, attempts=_ANY),
        texts.text("flow.code.wrong.other", language, attempts=_ANY),
        texts.text("flow.code.expired", language),
        texts.text("flow.too_many_codes", language, wait=_ANY),
        texts.text("validation.code", language),
        texts.text(
            "flow.explain_again",
            language,
            purpose=texts.text("flow.slot_purpose.verification_code", language),
        ),
        texts.text(
            "flow.explain_again",
            language,
            purpose=texts.text("flow.slot_purpose.withdraw_code", language),
        ),
    ]


def _apology_texts(language: str) -> List[str]:
    return [texts.text("fault.not_done", language), texts.text("fault.not_saved", language)]


def _pattern(filled: Callable[[str], List[str]]) -> re.Pattern[str]:
    """Any of the texts, in any language of the catalogue, `_ANY` matching any text."""
    return re.compile(
        "|".join(
            re.escape(one).replace(re.escape(_ANY), ".+?")
            for language in texts.languages()
            for one in filled(language)
        ),
        re.DOTALL,
    )


@lru_cache(maxsize=1)
def _prompts() -> re.Pattern[str]:
    return _pattern(_code_prompts)


@lru_cache(maxsize=1)
def _apologies() -> re.Pattern[str]:
    return _pattern(_apology_texts)


def asks_for_code(text: object) -> bool:
    """Is this one of the assistant's questions for a code, in any language?"""
    return isinstance(text, str) and _prompts().search(text) is not None


def _is_apology(text: object) -> bool:
    return isinstance(text, str) and _apologies().search(text) is not None


def _code_spans(run: re.Match[str]) -> List[Tuple[int, int]]:
    """Within one run of digit groups, each stretch of whole groups that holds exactly
    CODE_DIGITS digits ("123 456" whole; the 123456 of "123456 2"; nothing of a phone number
    such as "138 0013 8000", nor of a date)."""
    if _ISO_DATE.fullmatch(run.group(0)):
        return []
    groups = [(g.start() + run.start(), g.end() + run.start()) for g in _GROUP.finditer(run[0])]
    spans = []
    for first in range(len(groups)):
        digits = 0
        for last in range(first, len(groups)):
            digits += groups[last][1] - groups[last][0]
            if digits == CODE_DIGITS:
                spans.append((groups[first][0], groups[last][1]))
            if digits >= CODE_DIGITS:
                break
    return spans


def mask_codes(text: str) -> str:
    """`text` with what can be a verification code replaced by CODE_PLACEHOLDER: six digits,
    ASCII or full-width, alone or grouped by spaces, dots or dashes, and not part of a longer
    number or of a request reference. Everything else stays as typed."""
    if not isinstance(text, str):
        return text
    plain = half_width(text)  # one character for one: positions stay those of `text`
    for start, end in reference_spans(plain):
        if _CODE_AFTER_A_WORD.fullmatch(plain, start, end):
            continue
        plain = plain[:start] + "#" * (end - start) + plain[end:]  # a reference is no code
    spans: List[Tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(plain):
        spans.extend(_code_spans(run))
    if not spans:
        return text
    merged: List[List[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, at = [], 0
    for start, end in merged:
        out += [text[at:start], CODE_PLACEHOLDER]
        at = end
    return "".join(out + [text[at:]])


def mask_transcript(lines: Sequence[Any], code_step: Optional[Collection[int]] = None) -> List[Any]:
    """A transcript (lines `{"from", "text", "at"}`) with the visitor's codes masked: in the
    lines at `code_step` (their indexes, when the caller knows them) and in every visitor line
    that answers the assistant's question for a code. Lines of another shape are left as they
    are; the list given is not changed."""
    known = set(code_step or ())
    masked: List[Any] = []
    asked = False  # the assistant's turn before the next visitor line asked for a code
    answered_code = False  # the last visitor line was at the code step
    # The assistant's turn since the last visitor line was nothing but apologies (None: empty).
    only_apologies: Optional[bool] = None
    for index, line in enumerate(lines):
        if not isinstance(line, Mapping):
            masked.append(line)
            continue
        text = line.get("text")
        if line.get("from") == VISITOR:
            at_code = index in known or asked or (answered_code and only_apologies is True)
            if at_code and isinstance(text, str):
                line = {**line, "text": mask_codes(text)}
            masked.append(line)
            answered_code, asked, only_apologies = at_code, False, None
            continue
        asked = asked or asks_for_code(text)
        only_apologies = (only_apologies is not False) and _is_apology(text)
        masked.append(line)
    return masked
