"""Which language a page is shown in, and the catalogue's texts as templates and scripts see them.

Two audiences choose differently:

- A visitor of the product page: their own choice (the chat window's language switch, kept by
  the page in localStorage and in the cookie `vp_lang`, so that the server renders the next page
  in it), else the browser's preference (`Accept-Language`), else the default language. The
  page's script also reads `navigator.languages` on a first visit, for a browser whose header
  says nothing.
- A staff member: their choice on the staff pages (kept in their session and in the cookie
  `vp_staff_lang`, so that it outlives a logout), else `Accept-Language`, else the default.

The languages, their `<html lang>` tags and the Accept-Language tags that choose them are the
registry's (data/languages.yml, bot.core.language).

Every text either page shows comes from the catalogue (`bot.core.texts`, keys `web.*`); the
templates get `t(key, **values)` bound to the page's language, and the scripts a JSON bundle of
the templates they use (`bundle`), filled in the browser the way `str.format` fills them here.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Callable, Dict, Iterable, Mapping, Optional, Tuple

from starlette.requests import Request
from starlette.templating import Jinja2Templates

from bot.core.language import LANGUAGES, or_default, registry
from bot.core.texts import DEFAULT_LANGUAGE, catalogue

__all__ = [
    "HTML_LANG",
    "STAFF_COOKIE",
    "VISITOR_COOKIE",
    "bundle",
    "from_accept_language",
    "html_lang_of",
    "known",
    "label",
    "set_language_payload",
    "staff_language",
    "templates",
    "text",
    "translator",
    "visitor_language",
]


def text(key: str, language: str, **values: object) -> str:
    """The catalogue's text for a key the pages name (templates, scripts, handlers); those keys
    are checked against the catalogue by tests/unit/test_web.py, which reads the templates."""
    return catalogue().text(key, language, **values)


WEB_DIR = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))

VISITOR_COOKIE = "vp_lang"
STAFF_COOKIE = "vp_staff_lang"
STAFF_SESSION_KEY = "language"
COOKIE_MAX_AGE = 365 * 24 * 3600
# What `<html lang>` and Content-Language say for each language (its registry entry's `html`).
HTML_LANG: Dict[str, str] = {language.code: language.html for language in registry().languages}
# The language each Accept-Language primary subtag chooses (its registry entry's `tags`).
_BY_TAG: Dict[str, str] = {
    tag: language.code for language in registry().languages for tag in language.tags
}
# The payload the chat window sends when the visitor switches language (bot/web/static/chat.js
# builds the same string): the `set_language` intent with its `language` entity.
SET_LANGUAGE_PAYLOAD = '/set_language{{"language":"{language}"}}'

# One entry of Accept-Language: a tag (or `*`) and its weight.
_RANGE = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*"
    r"(?:;\s*q\s*=\s*([0-9.]+))?\s*$"
)

Translate = Callable[..., str]


def known(language: object) -> Optional[str]:
    """`language` if it is a registered language's code, else None."""
    return language if isinstance(language, str) and language in LANGUAGES else None


def html_lang_of(language: object) -> str:
    """The `<html lang>` tag of a stored language (a ticket's, a request's): the default
    language's for None or anything not registered."""
    return HTML_LANG[or_default(known(language))]


def language_of_tag(tag: str) -> Optional[str]:
    """The registered language whose `tags` hold the tag's primary subtag (zh, zh-CN, zh-Hans,
    zh-TW all choose the language tagged `zh`: Traditional readers read Simplified far better
    than English, and the assistant accepts Traditional input), None for any other."""
    return _BY_TAG.get(tag.strip().lower().split("-")[0])


def from_accept_language(header: Optional[str]) -> Optional[str]:
    """The language the browser prefers among ours (RFC 9110 weights; ties keep the header's
    order; `q=0` means "not this one"), or None when it names neither."""
    best: Optional[Tuple[float, int, str]] = None
    for index, part in enumerate((header or "").split(",")):
        match = _RANGE.match(part)
        if not match or match.group(1) == "*":
            continue
        try:
            weight = float(match.group(2)) if match.group(2) is not None else 1.0
        except ValueError:
            continue
        language = language_of_tag(match.group(1))
        if language is None or weight <= 0:
            continue
        candidate = (-weight, index, language)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else None


def visitor_language(request: Request) -> str:
    """The product page's language: the visitor's choice (cookie), else the browser's."""
    return (
        known(request.cookies.get(VISITOR_COOKIE))
        or from_accept_language(request.headers.get("accept-language"))
        or DEFAULT_LANGUAGE
    )


def staff_language(request: Request) -> str:
    """The staff pages' language: the member's choice (session, then cookie), else the
    browser's."""
    return (
        known(request.session.get(STAFF_SESSION_KEY))
        or known(request.cookies.get(STAFF_COOKIE))
        or from_accept_language(request.headers.get("accept-language"))
        or DEFAULT_LANGUAGE
    )


def translator(language: str) -> Translate:
    """`t(key, **values)` for templates: the catalogue's text in `language`."""

    def t(key: str, **values: object) -> str:
        return text(key, language, **values)

    return t


def label(group: str, value: object, language: str) -> str:
    """The name of a stored value (a status, a kind, a role) under `web.<group>.<value>`; a value
    the catalogue has no name for is shown as it is stored (tests check that every value the code
    knows has a name in every language)."""
    name = str(value if value is not None else "")
    key = f"{group}.{name}"
    if (
        name
        and all(part.isidentifier() for part in name.split("."))
        and catalogue().has(key, language)
    ):
        return text(key, language)
    return name.replace("_", " ")


def labeller(language: str) -> Callable[[str, object], str]:
    def named(group: str, value: object) -> str:
        return label(group, value, language)

    return named


@cache
def _templates_under(prefixes: Tuple[str, ...], language: str) -> Dict[str, str]:
    entries = catalogue().entries(language)
    return {
        key: entry.value
        for key, entry in entries.items()
        if isinstance(entry.value, str) and key.startswith(prefixes)
    }


def bundle(
    prefixes: Iterable[str], languages: Iterable[str] = LANGUAGES
) -> Dict[str, Mapping[str, str]]:
    """The raw templates under `prefixes` for each language, for a page's script: it fills
    `{name}` and `{{`/`}}` itself (bot/web/static/chat.js, staff.js)."""
    wanted = tuple(prefixes)
    return {language: _templates_under(wanted, language) for language in languages}


def set_language_payload(language: str) -> str:
    """The chat window's switch payload for `language`."""
    if known(language) is None:
        raise ValueError(f"not a language of the assistant: {language!r}")
    return SET_LANGUAGE_PAYLOAD.format(language=language)


# Every page may name a language's tag, whichever handler renders it.
templates.env.globals.update(
    html_langs=HTML_LANG, html_lang_of=html_lang_of, default_language=DEFAULT_LANGUAGE
)
