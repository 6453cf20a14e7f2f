"""The reasons the legal department gives when it refuses a request, from editable templates that
cite their legal basis (PIPL Art. 50: a refusal must be explained).

The templates are data, `data/legal/refusal_templates.yml`, so the legal department words them
and keeps them current without a code change. Each has a title (what the desk picks from), the
text the requester reads, and its legal basis, in every language of the assistant. The request
page fills the reason box with `Template.reason(language, reference)`; the member edits it for
the case before sending, so nothing here is ever sent as it stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple

import yaml

from bot.core.language import LANGUAGES, or_default
from bot.core.paths import ROOT
from bot.core.texts import text

TEMPLATES_FILE = ROOT / "data" / "legal" / "refusal_templates.yml"
FIELDS = ("title", "text", "legal_basis")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class RefusalTemplateError(ValueError):
    """The templates file is not as this module reads it (the message says where)."""


@dataclass(frozen=True)
class Template:
    key: str
    title: Mapping[str, str]
    text: Mapping[str, str]
    legal_basis: Mapping[str, str]

    def reason(self, language: str, reference: str = "") -> str:
        """The reason as the requester reads it: the text, then its legal basis."""
        language = or_default(language)
        body = self.text[language].replace("{reference}", reference).strip()
        basis = text("casework.refusal_basis", language, basis=self.legal_basis[language].strip())
        return f"{body}\n\n{basis}"


def _texts(key: str, field: str, value: Any) -> Dict[str, str]:
    if not isinstance(value, dict):
        raise RefusalTemplateError(f"{key}.{field}: give one text per language")
    texts: Dict[str, str] = {}
    for language in LANGUAGES:
        found = value.get(language)
        if not isinstance(found, str) or not found.strip():
            raise RefusalTemplateError(f"{key}.{field}: no {language} text")
        texts[language] = " ".join(found.split()) if field != "text" else found.strip()
    return texts


def parse(data: Any) -> Tuple[Template, ...]:
    """The templates of a file's contents, in the file's order."""
    templates = data.get("templates") if isinstance(data, dict) else None
    if not isinstance(templates, dict) or not templates:
        raise RefusalTemplateError("the file needs a `templates` mapping with one entry or more")
    parsed = []
    for key, entry in templates.items():
        if not isinstance(key, str) or not KEY.match(key):
            raise RefusalTemplateError(f"{key!r}: a key is lower-case letters, digits and _")
        if not isinstance(entry, dict) or set(entry) != set(FIELDS):
            raise RefusalTemplateError(f"{key}: needs exactly {', '.join(FIELDS)}")
        texts = {field: _texts(key, field, entry[field]) for field in FIELDS}
        parsed.append(Template(key, texts["title"], texts["text"], texts["legal_basis"]))
    return tuple(parsed)


def load(path: Path = TEMPLATES_FILE) -> Tuple[Template, ...]:
    with path.open(encoding="utf-8") as handle:
        return parse(yaml.safe_load(handle))


@lru_cache(maxsize=1)
def _cached(path: Path, mtime: float) -> Tuple[Template, ...]:
    return load(path)


def templates(path: Path = TEMPLATES_FILE) -> Tuple[Template, ...]:
    """The templates, read again whenever the file changes (an edit shows without a restart)."""
    return _cached(path, path.stat().st_mtime)


def find(key: str, path: Path = TEMPLATES_FILE) -> Template:
    for template in templates(path):
        if template.key == key:
            return template
    raise KeyError(key)
