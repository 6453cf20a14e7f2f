"""A third language made of data alone: "xx", English with every letter accented, generated here
from the English files (the registry entry, the catalogue of texts, the lexicon), and loaded
through the same entry points as English and Chinese. Nothing in the code changes for it; a key
it lacks fails loudly, by name."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from bot.conversation.reading import Reader
from bot.core.language import REGISTRY_FILE, LanguageError, Registry
from bot.core.lexicon import LEXICON_DIR, Lexicon, LexiconError
from bot.core.lexicon import check as lexicon_check
from bot.core.paths import TEXTS_DIR
from bot.core.texts import Catalogue, TextError

PSEUDO = "xx"
_LOWER = dict(zip("abcdefghijklmnopqrstuvwxyz", "àƀçďéƒĝĥîĵķĺṁñöƥǫřšţüṽŵẋÿž", strict=True))
_ACCENTS = str.maketrans({**_LOWER, **{k.upper(): v.upper() for k, v in _LOWER.items()}})
# What str.format fills, and its escaped braces: kept as written.
_FIELD = re.compile(r"(\{\{|\}\}|\{[^{}]*\})")
# The one entry of the lexicon a new script needs of its own: what its words are made of.
_WORD = r"[^\W_]+"


def accented(text: str) -> str:
    """Every letter accented, `{placeholders}` (and `{{`, `}}`) left intact."""
    return "".join(
        part if _FIELD.fullmatch(part) else part.translate(_ACCENTS) for part in _FIELD.split(text)
    )


def _texts(value: Any) -> Any:
    """A catalogue file accented: texts and button titles; a command payload (`/...`) as it is,
    since every language must send the same."""
    if isinstance(value, dict) and set(value) == {"title", "payload"}:
        payload = value["payload"]
        return {
            "title": accented(value["title"]),
            "payload": payload if payload.startswith("/") else accented(payload),
        }
    if isinstance(value, dict):
        return {key: _texts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_texts(item) for item in value]
    return accented(value) if isinstance(value, str) else value


def _words(value: Dict[str, Any]) -> Dict[str, Any]:
    """A lexicon file accented: its words and the values of its word mappings; its patterns are
    kept (they read the English of an accented text the same)."""
    out: Dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict) and any(isinstance(v, (dict, list)) for v in item.values()):
            out[key] = _words(item)
        elif isinstance(item, dict):
            out[key] = {k: accented(v) for k, v in item.items()}
        elif isinstance(item, list):
            out[key] = [accented(str(word)) for word in item]
        else:
            out[key] = item
    return out


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _read(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder of three languages: the two registered ones, copied, and xx made from the
    English files."""
    root = tmp_path_factory.mktemp("pseudo")
    registry = _read(REGISTRY_FILE)
    english = registry["languages"][registry["default"]]
    registry["languages"][PSEUDO] = {
        **english,
        "name": accented(english["name"]),
        "html": PSEUDO,
        "tags": [PSEUDO],
        "names": [accented(name) for name in english["names"] if name.isascii()],
    }
    _write(root / "languages.yml", registry)

    shutil.copytree(TEXTS_DIR, root / "texts")
    default = registry["default"]
    if (TEXTS_DIR / f"{default}.yml").is_file():
        _write(root / "texts" / f"{PSEUDO}.yml", _texts(_read(TEXTS_DIR / f"{default}.yml")))
    for path in sorted((TEXTS_DIR / default).glob("*.yml")):
        _write(root / "texts" / PSEUDO / path.name, _texts(_read(path)))

    shutil.copytree(LEXICON_DIR, root / "lexicon")
    for path in sorted((LEXICON_DIR / default).glob("*.yml")):
        words = _words(_read(path))
        if "forms" in words:
            words["forms"]["word"] = _WORD
        _write(root / "lexicon" / PSEUDO / path.name, words)
    return root


def test_the_registry_lists_the_third_language_from_its_entry_alone(data):
    registry = Registry.load(data / "languages.yml")
    assert registry.codes[-1] == PSEUDO and len(registry.codes) == 3
    assert registry.get(PSEUDO).match == "words" and registry.get(PSEUDO).html == PSEUDO


def test_the_catalogue_serves_the_third_language_with_no_code_change(data):
    catalogue = Catalogue(data / "texts")
    assert PSEUDO in catalogue.languages
    assert catalogue.check() == []
    email = "j***@e***.com"
    said = catalogue.text("flow.code.sent", PSEUDO, email=email)
    english = catalogue.entry("flow.code.sent").value
    assert said == accented(english).format(email=email)
    assert said != catalogue.text("flow.code.sent", email=email)
    assert not re.search("[A-Za-z]", said.replace(email, ""))  # every letter of the text accented
    assert catalogue.placeholders("flow.code.sent", PSEUDO) == ("email",)
    title = catalogue.buttons("flow.confirm.buttons", PSEUDO)[0]["title"]
    assert title == accented(catalogue.buttons("flow.confirm.buttons")[0]["title"])


def test_the_lexicon_reads_the_third_language_with_no_code_change(data):
    registry = Registry.load(data / "languages.yml")
    assert lexicon_check(registry.codes, data / "lexicon") == []
    read = Reader(registry.get(PSEUDO), Lexicon.load(PSEUDO, data / "lexicon"))
    assert read.is_one_of(accented("Yes"), "forms.yes")
    assert read.is_one_of(accented("that's right!"), "forms.yes")
    assert not read.is_one_of("yes", "forms.yes")  # its own words, not English
    assert read.is_one_of(accented("stop it"), "forms.stop")
    assert read.contains(accented("only my phone number"), "forms.specific")
    assert read.contains(accented("my phone number"), "forms.correction_items.phone")
    assert read.mentions(accented("please resend it"), "forms.resend")


def test_a_key_the_third_language_lacks_fails_loudly_by_name(data, tmp_path):
    shutil.copytree(data, tmp_path, dirs_exist_ok=True)

    texts_file = tmp_path / "texts" / f"{PSEUDO}.yml"
    texts = _read(texts_file)
    del texts["flow"]["code"]["sent"]
    _write(texts_file, texts)
    catalogue = Catalogue(tmp_path / "texts")
    assert f"{PSEUDO}: missing flow.code.sent" in catalogue.check()
    with pytest.raises(TextError, match="flow.code.sent"):
        catalogue.text("flow.code.sent", PSEUDO, email="x")

    forms_file = tmp_path / "lexicon" / PSEUDO / "forms.yml"
    forms = _read(forms_file)
    del forms["forms"]["stop"]
    _write(forms_file, forms)
    codes = Registry.load(tmp_path / "languages.yml").codes
    assert lexicon_check(codes, tmp_path / "lexicon") == [
        f"{PSEUDO}: no forms.stop (the {codes[0]} lexicon has it)"
    ]
    with pytest.raises(LexiconError, match="forms.stop"):
        Lexicon.load(PSEUDO, tmp_path / "lexicon").words("forms.stop")


def test_a_registry_entry_without_a_field_fails_loudly_by_name(data, tmp_path):
    registry = _read(data / "languages.yml")
    del registry["languages"][PSEUDO]["match"]
    _write(tmp_path / "languages.yml", registry)
    with pytest.raises(LanguageError, match=f"{PSEUDO}: missing match"):
        Registry.load(tmp_path / "languages.yml")
