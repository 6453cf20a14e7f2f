"""What a visitor's message is allowed to be before the assistant reads it.

Rasa's channels (REST, socketio) accept any string, and Rasa treats a message that starts with
`/` as an intent with entities, skipping NLU. A visitor could type `/restart` or
`/request_deletion{"verification_code": "..."}` and steer the conversation in ways no button
offers. So every message passes through `prepare` first, in Rasa itself, by the channels Rasa
listens on (`bot.rasa.channels`, named in `credentials.yml`), whatever channel it came by:

- control characters and bidirectional-override characters are removed: they can make a
  transcript read differently to the legal team than what was sent ("Trojan source");
- a `/command` is kept only when it is exactly a button payload the assistant offers
  (`/affirm`, `/stop`, ...: an intent of our own domain, no entities), or exactly the chat
  window's language switch (`/set_language{"language": "<code>"}`: that one entity, naming a
  registered language, nothing else); anything else loses its leading slashes and is read as
  words;
- an empty message or one longer than the cap is not processed at all: the visitor gets a
  friendly reply (in the language the message is written in, if it tells: there is no
  conversation to read one from) and the conversation's state is untouched.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Collection, Optional

from bot.core import texts
from bot.core.language import LANGUAGES, detect, or_default

# Bidirectional embeddings, overrides and isolates, and the marks that steer them.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
# Invisible characters with no use in a chat message (the zero-width joiner stays: emoji need it).
INVISIBLE = frozenset("\u200b\u2060\ufeff\u00ad")
KEPT_CONTROLS = frozenset("\n\t")
BUTTON_COMMAND = re.compile(r"/([a-z][a-z0-9_]*)")
LANGUAGE_INTENT = "set_language"
# The language switch's payload, exactly: `/set_language{"language": "<code>"}` (spaces allowed).
LANGUAGE_COMMAND = re.compile(
    rf'/{LANGUAGE_INTENT}\{{\s*"language"\s*:\s*"(?P<language>[a-z]{{2}})"\s*\}}'
)

SENDER_MAX_CHARS = 128  # a conversation id; the web app's are 8-64 characters

EMPTY = "empty"
TOO_LONG = "too_long"


@dataclass(frozen=True)
class Prepared:
    text: str
    problem: Optional[str] = None  # EMPTY or TOO_LONG: answer with `reply_for`, do not process
    length: int = 0  # characters the visitor sent, after cleaning


def clean(text: Optional[str]) -> str:
    """The message without control, bidi-override or invisible characters, in NFC form."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text))
    kept = []
    for char in text:
        if char in KEPT_CONTROLS:
            kept.append(" " if char == "\t" else char)
        elif char in BIDI_CONTROLS or char in INVISIBLE:
            continue
        elif unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn"):
            continue  # control, lone surrogate, private use, unassigned
        else:
            kept.append(char)
    return "".join(kept).strip()


def is_language_command(text: str, intents: Collection[str]) -> bool:
    """The chat window's language switch, exactly: our `set_language` intent with a `language`
    entity that is a registered language (no other entity can ride along)."""
    match = LANGUAGE_COMMAND.fullmatch(text)
    return match is not None and match.group("language") in LANGUAGES and LANGUAGE_INTENT in intents


def is_button_command(text: str, intents: Collection[str]) -> bool:
    """`/affirm` as a button sends it: exactly one of our intents, nothing more (or the
    language switch, `is_language_command`)."""
    match = BUTTON_COMMAND.fullmatch(text)
    return (match is not None and match.group(1) in intents) or is_language_command(text, intents)


def neutralise_command(text: str, intents: Collection[str]) -> str:
    """A typed `/command` that is not one of our buttons is read as plain words."""
    if not text.startswith("/") or is_button_command(text, intents):
        return text
    return text.lstrip("/").strip()


def prepare(text: Optional[str], intents: Collection[str], max_chars: int) -> Prepared:
    cleaned = clean(text)
    if len(cleaned) > max_chars:
        return Prepared(cleaned[:max_chars], TOO_LONG, len(cleaned))
    cleaned = neutralise_command(cleaned, intents)
    if not cleaned:
        return Prepared("", EMPTY, 0)
    return Prepared(cleaned, None, len(cleaned))


def reply_for(prepared: Prepared, max_chars: int, language: Optional[str] = None) -> str:
    """The friendly reply to a message that is not processed (texts: `input.*`), in `language`,
    else in the language the message is written in (`detect`), else the default language."""
    language = or_default(language or detect(prepared.text))
    if prepared.problem == TOO_LONG:
        return texts.text("input.too_long", language, length=prepared.length, limit=max_chars)
    return texts.text("input.empty", language)
