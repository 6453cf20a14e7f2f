"""Rasa's responses in domain.yml, rendered from the catalogue of texts.

Rasa says its `utter_*` responses itself, from the `responses:` section of domain.yml, so they
must be there; but their words belong with every other text, in data/texts/<language>.yml
(bot.core.texts), where a translation finds them. So the section is generated: each top-level
`utter_*` entry of the English catalogue is one response (a text, or a mapping of `text` and
`buttons`), and this module rewrites only the `responses:` section of domain.yml, leaving every
other byte of the file as it is. tests/test_domain_responses.py fails while the committed file
differs from what the catalogue renders.

Every response has one variation per language. A language other than English is chosen by the
`language` slot (`condition: [{type: slot, name: language, value: zh}]`); English comes last,
without a condition, so that it is what Rasa says whenever no other variation applies. The
`language` slot is set from the message's `language` entity before the response is chosen, so a
reply is in the language of the message it answers (or of the switch it confirms). A domain
must declare the slot before a second language is added (`render` refuses otherwise).

    python -m bot.rasa.domain_responses           # rewrite domain.yml's responses
    python -m bot.rasa.domain_responses --check   # exit 1 when they are out of date
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import List, Optional

import yaml

from bot.core.paths import DOMAIN_FILE, ROOT
from bot.core.texts import DEFAULT_LANGUAGE, Catalogue, catalogue

RESPONSE_PREFIX = "utter_"
LANGUAGE_SLOT = "language"

HEADER = (
    "  # Generated from data/texts/*.yml by `python -m bot.rasa.domain_responses`: edit the "
    "texts there.\n"
)
_SECTION = re.compile(r"^responses:[ \t]*\n(?:(?:[ \t].*|)\n)*", re.M)


def response_names(texts: Catalogue) -> List[str]:
    """The responses the catalogue defines, in its order: its top-level `utter_*` entries."""
    names: List[str] = []
    for key in texts.keys(DEFAULT_LANGUAGE):
        name = key.split(".", 1)[0]
        if name.startswith(RESPONSE_PREFIX) and name not in names:
            names.append(name)
    return names


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is a subset of it)."""
    return json.dumps(value, ensure_ascii=False)


def _variation(texts: Catalogue, name: str, language: str) -> List[str]:
    """One variation of a response, as the lines of a YAML list item."""
    entries = texts.entries(language)
    if name in entries:
        text, buttons = texts.text(name, language), []
    else:
        text = texts.text(f"{name}.text", language)
        buttons = texts.buttons(f"{name}.buttons", language) if f"{name}.buttons" in entries else []
    lines = [f"    - text: {_quoted(text)}"]
    if buttons:
        lines.append("      buttons:")
        for button in buttons:
            lines += [
                f"        - title: {_quoted(button['title'])}",
                f"          payload: {_quoted(button['payload'])}",
            ]
    if language != DEFAULT_LANGUAGE:
        lines += [
            "      condition:",
            "        - type: slot",
            f"          name: {LANGUAGE_SLOT}",
            f"          value: {_quoted(language)}",
        ]
    return lines


def render_responses(texts: Optional[Catalogue] = None) -> str:
    """The whole `responses:` section: every response, other languages first, English last."""
    texts = texts or catalogue()
    others = [language for language in texts.languages if language != DEFAULT_LANGUAGE]
    blocks = []
    for name in response_names(texts):
        lines = [f"  {name}:"]
        for language in others + [DEFAULT_LANGUAGE]:
            lines += _variation(texts, name, language)
        blocks.append("\n".join(lines) + "\n")
    return "responses:\n" + HEADER + "\n".join(blocks) + "\n"


def render(domain: str, texts: Optional[Catalogue] = None) -> str:
    """`domain` (the text of domain.yml) with its `responses:` section rendered anew."""
    texts = texts or catalogue()
    found = list(_SECTION.finditer(domain))
    if len(found) != 1:
        raise ValueError("domain.yml must have exactly one top-level `responses:` section")
    if len(texts.languages) > 1 and LANGUAGE_SLOT not in (
        (yaml.safe_load(domain) or {}).get("slots") or {}
    ):
        raise ValueError(
            f"the responses choose a language by the `{LANGUAGE_SLOT}` slot, "
            "which domain.yml does not declare"
        )
    match = found[0]
    return domain[: match.start()] + render_responses(texts) + domain[match.end() :]


def is_current(path: Path = DOMAIN_FILE, texts: Optional[Catalogue] = None) -> bool:
    domain = path.read_text(encoding="utf-8")
    return domain == render(domain, texts)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:  # not inside the checkout
        return str(path)


def main(
    argv: Optional[List[str]] = None, path: Optional[Path] = None, texts: Optional[Catalogue] = None
) -> int:
    """`path` and `texts` let a test render another domain file from another catalogue."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.rasa.domain_responses",
        description="Render domain.yml's responses from the catalogue of texts (data/texts/).",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only compare with the committed domain.yml; exit 1 when stale",
    )
    args = parser.parse_args(argv)
    path = path or DOMAIN_FILE
    texts = texts or catalogue()
    domain = path.read_text(encoding="utf-8")
    rendered = render(domain, texts)
    if args.check:
        if domain == rendered:
            return 0
        print(
            f"The responses in {_shown(path)} are out of date: run "
            "`python -m bot.rasa.domain_responses`",
            file=sys.stderr,
        )
        return 1
    path.write_text(rendered, encoding="utf-8")
    print(
        f"Wrote the responses of {_shown(path)} ({len(response_names(texts))} responses, "
        f"languages: {', '.join(texts.languages)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
