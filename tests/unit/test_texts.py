"""The catalogue of texts (bot/core/texts.py, data/texts/*.yml): how it is read, and that the
code and the catalogue agree.

The code is read with `ast`: every `text("...")`, `buttons(...)`, `button(...)` call (and a
kind of request's `wording("...")`) names a key that exists and gives every value its template
needs; every key of the catalogue is used by the code, by a kind of request, or by Rasa as one
of domain.yml's responses; every language has exactly English's keys.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import pytest
import yaml

from bot.conversation import faults
from bot.core import texts
from bot.core.paths import ROOT, TEXTS_DIR
from bot.core.texts import Catalogue, MissingValue, TextError, UnknownLanguage, UnknownText
from bot.requests import registry
from bot.requests.registry import KINDS

CATALOGUE = texts.catalogue()
ENGLISH = CATALOGUE.entries("en")
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


# -- the loader -------------------------------------------------------------------------------


def write(directory: Path, language: str, body: str) -> None:
    (directory / f"{language}.yml").write_text(body, encoding="utf-8")


EN = """\
greeting: "Hello, {name}!"
plain: "No braces {{here}}"
nested:
  long: |-
    Line one.

    Line two.
  count: "{count:,} items"
menu:
  - {title: "Help {name}", payload: "/help"}
  - {title: "Words", payload: "some words"}
one: {title: "Yes", payload: "/affirm"}
"""


@pytest.fixture
def tmp_catalogue(tmp_path: Path) -> Catalogue:
    write(tmp_path, "en", EN)
    return Catalogue(tmp_path)


def test_texts_are_filled_from_the_callers_values(tmp_catalogue: Catalogue):
    assert tmp_catalogue.text("greeting", name="Lena") == "Hello, Lena!"
    assert tmp_catalogue.text("plain") == "No braces {here}"
    assert tmp_catalogue.text("nested.long") == "Line one.\n\nLine two."
    assert tmp_catalogue.text("nested.count", count=12345) == "12,345 items"
    assert tmp_catalogue.text("greeting", name="x", unused="fine") == "Hello, x!"


def test_buttons_and_a_button(tmp_catalogue: Catalogue):
    assert tmp_catalogue.buttons("menu", name="Sam") == [
        {"title": "Help Sam", "payload": "/help"},
        {"title": "Words", "payload": "some words"},
    ]
    assert tmp_catalogue.button("one") == {"title": "Yes", "payload": "/affirm"}
    tmp_catalogue.button("one")["title"] = "changed"  # a copy: the catalogue is unchanged
    assert tmp_catalogue.button("one")["title"] == "Yes"


def test_an_unknown_key_a_missing_value_and_the_wrong_kind_are_clear_errors(
    tmp_catalogue: Catalogue,
):
    with pytest.raises(UnknownText, match="no text 'nope' in the 'en' catalogue"):
        tmp_catalogue.text("nope")
    with pytest.raises(MissingValue, match="'greeting' \\(en\\) needs a value for name"):
        tmp_catalogue.text("greeting")
    with pytest.raises(TextError, match="is buttons, not text"):
        tmp_catalogue.text("menu", name="x")
    with pytest.raises(TextError, match="is text, not buttons"):
        tmp_catalogue.buttons("greeting", name="x")
    with pytest.raises(UnknownText):
        tmp_catalogue.text("nested")  # a group, not a text


def test_a_language_falls_back_to_nothing(tmp_path: Path, tmp_catalogue: Catalogue):
    with pytest.raises(UnknownLanguage, match="no texts for language 'zh'"):
        tmp_catalogue.text("greeting", "zh", name="x")
    write(tmp_path, "zh", 'greeting: "你好，{name}！"\n')
    assert Catalogue(tmp_path).text("greeting", "zh", name="Lena") == "你好，Lena！"
    with pytest.raises(UnknownText, match="no text 'plain' in the 'zh' catalogue"):
        Catalogue(tmp_path).text("plain", "zh")  # not the English text instead


def test_check_lists_what_a_language_lacks_or_adds(tmp_path: Path):
    write(tmp_path, "en", EN)
    write(
        tmp_path,
        "zh",
        """\
greeting: "你好，{name}，{title}！"
plain: "没有"
nested:
  long: "一"
extra: "多余"
menu:
  - {title: "帮助", payload: "/hilfe"}
  - {title: "词", payload: "一些词"}
one: "是"
""",
    )
    catalogue = Catalogue(tmp_path)
    assert catalogue.languages == ("en", "zh")
    assert sorted(catalogue.check()) == sorted(
        [
            "zh: missing nested.count",
            "zh: extra is not in en.yml",
            "zh: greeting uses title, which the en text's callers do not give",
            "zh: menu has other command payloads than in en.yml",
            "zh: one is text, in en.yml button",
        ]
    )


@pytest.mark.parametrize(
    "body, problem",
    [
        ('a: "{0} items"\n', "must be a plain name"),
        ('a: "{} items"\n', "must be a plain name"),
        ('a: "{user.name}"\n', "must be a plain name"),
        ('a: "unclosed {brace"\n', "not a valid template"),
        ("a: 12\n", "not int"),
        ('a:\n  - {title: "x"}\n', "exactly `title` and `payload`"),
        ('a-b: "x"\n', "is not a key"),
    ],
)
def test_a_malformed_catalogue_fails_when_it_is_read(tmp_path: Path, body: str, problem: str):
    write(tmp_path, "en", body)
    with pytest.raises(TextError, match=problem):
        Catalogue(tmp_path).entries("en")


def test_the_project_catalogue_is_read_once_per_process():
    assert texts.catalogue() is texts.catalogue()
    assert texts.catalogue().directory == TEXTS_DIR


# -- the project's catalogue ------------------------------------------------------------------


def test_every_language_has_exactly_the_english_keys():
    assert "en" in CATALOGUE.languages
    assert CATALOGUE.check() == []


def test_every_command_payload_is_an_intent_of_the_domain():
    for entry in ENGLISH.values():
        found = entry.value if isinstance(entry.value, tuple) else (entry.value,)
        for button in found:
            if isinstance(button, dict) and button["payload"].startswith("/"):
                assert button["payload"][1:] in DOMAIN["intents"], (entry.key, button)


def test_the_buttons_the_code_recognises_carry_their_payloads():
    assert faults.retry_button()["payload"] == f"/{faults.RETRY_INTENT}"
    assert texts.button("policy.button.connect")["payload"] == "/human_handoff"


def test_texts_have_no_stray_whitespace():
    """A text ends where its words end; the reasons for a handoff run on into the next
    sentence and so end with their own space (or are empty)."""
    for key, entry in ENGLISH.items():
        values = (
            [entry.value]
            if isinstance(entry.value, str)
            else [
                b["title"]
                for b in (entry.value if isinstance(entry.value, tuple) else (entry.value,))
            ]
        )
        for value in values:
            if key.startswith("handoff.why."):
                assert value == "" or (value.endswith(". ") and value.strip() == value[:-1])
            else:
                assert value == value.strip() and value, key


# -- each kind of request has its wording -----------------------------------------------------


def kind_fields(request: registry.RequestKind) -> Set[str]:
    prefix = f"request.{request.kind}."
    return {key[len(prefix) :] for key in ENGLISH if key.startswith(prefix)}


@pytest.mark.parametrize("request_kind", KINDS, ids=[r.kind for r in KINDS])
def test_each_kind_has_its_texts_and_no_others(request_kind):
    fields = kind_fields(request_kind)
    assert set(registry.TEXT_FIELDS) <= fields
    assert (set(registry.REASON_TEXT_FIELDS) <= fields) == request_kind.reason_required
    assert not (set(registry.REASON_TEXT_FIELDS) & fields) or request_kind.reason_required
    assert (set(registry.AT_ONCE_TEXT_FIELDS) <= fields) == (request_kind.at_once is not None)
    assert not (set(registry.AT_ONCE_TEXT_FIELDS) & fields) or request_kind.at_once
    defaults = {f"default_{detail}" for detail in request_kind.what_defaults}
    assert defaults <= fields
    allowed = (
        set(registry.TEXT_FIELDS)
        | set(registry.OPTIONAL_TEXT_FIELDS)
        | defaults
        | set(registry.REASON_TEXT_FIELDS)
        | set(registry.AT_ONCE_TEXT_FIELDS)
    )
    assert fields <= allowed


def test_only_kinds_of_request_have_texts_under_request():
    kinds = {key.split(".")[1] for key in ENGLISH if key.startswith("request.")}
    assert kinds == set(registry.NAMES)
    assert all(key.count(".") == 2 for key in ENGLISH if key.startswith("request."))


# -- the code and the catalogue agree ---------------------------------------------------------

FUNCTIONS = {"text", "buttons", "button", "has_text", "placeholders"}
SEGMENT = "[A-Za-z0-9_]+"


@dataclass
class Use:
    """One call that names a key: where, the key (or a pattern of keys), the values given."""

    where: str
    keys: List[str] = field(default_factory=list)  # exact keys
    patterns: List[str] = field(default_factory=list)  # regexes, from f-strings
    fields: List[str] = field(default_factory=list)  # a kind's `wording("<field>")`
    field_patterns: List[str] = field(default_factory=list)
    values: Optional[Set[str]] = None  # None: `**values`, not statically known
    checks_values: bool = True  # False for has_text / placeholders


def python_files() -> Iterator[Path]:
    for package in ("bot", "actions"):
        yield from sorted((ROOT / package).rglob("*.py"))


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def string_constants(tree: ast.Module) -> Dict[str, str]:
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


TREES = {module_of(path): ast.parse(path.read_text(encoding="utf-8")) for path in python_files()}
CONSTANTS = {module: string_constants(tree) for module, tree in TREES.items()}


def bindings(module: str) -> Tuple[Dict[str, str], Set[str], Dict[str, str]]:
    """In one module: names bound to the catalogue's functions, names bound to the texts
    module, and string constants it may name (its own and those it imports)."""
    functions: Dict[str, str] = {}
    modules: Set[str] = set()
    names = dict(CONSTANTS[module])
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.ImportFrom) and node.module == "bot.core.texts":
            functions.update(
                {
                    alias.asname or alias.name: alias.name
                    for alias in node.names
                    if alias.name in FUNCTIONS
                }
            )
        elif isinstance(node, ast.ImportFrom) and node.module == "bot.core":
            modules |= {alias.asname or alias.name for alias in node.names if alias.name == "texts"}
        elif isinstance(node, ast.Import):
            modules |= {
                alias.asname
                for alias in node.names
                if alias.name == "bot.core.texts" and alias.asname
            }
        if isinstance(node, ast.ImportFrom) and node.module in CONSTANTS:
            names.update(
                {
                    alias.asname or alias.name: CONSTANTS[node.module][alias.name]
                    for alias in node.names
                    if alias.name in CONSTANTS[node.module]
                }
            )
    return functions, modules, names


def key_forms(node: ast.AST, names: Dict[str, str]) -> Optional[Tuple[List[str], List[str]]]:
    """The exact keys and the patterns an argument can be, or None when not visible."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value], []
    if isinstance(node, ast.Name) and node.id in names:
        return [names[node.id]], []
    if isinstance(node, ast.JoinedStr):
        pattern = "".join(
            re.escape(part.value) if isinstance(part, ast.Constant) else SEGMENT
            for part in node.values
        )
        return [], [pattern]
    if isinstance(node, ast.IfExp):
        body, orelse = key_forms(node.body, names), key_forms(node.orelse, names)
        if body is None or orelse is None:
            return None
        return body[0] + orelse[0], body[1] + orelse[1]
    return None


def values_of(call: ast.Call) -> Optional[Set[str]]:
    if any(keyword.arg is None for keyword in call.keywords):
        return None
    return {keyword.arg for keyword in call.keywords if keyword.arg}


def uses() -> Tuple[List[Use], List[str]]:
    """Every call naming a key, and the calls whose key cannot be read from the code."""
    found: List[Use] = []
    hidden: List[str] = []
    for module, tree in TREES.items():
        functions, modules, names = bindings(module)
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            name = None
            if isinstance(func, ast.Name) and func.id in functions:
                name = functions[func.id]
            elif (
                isinstance(func, ast.Attribute)
                and func.attr in FUNCTIONS
                and isinstance(func.value, ast.Name)
                and func.value.id in modules
            ):
                name = func.attr
            elif isinstance(func, ast.Attribute) and func.attr in ("wording", "has_wording"):
                name = func.attr
            if name is None:
                continue
            where = f"{module}:{call.lineno}"
            argument = (
                call.args[0]
                if call.args
                else next((k.value for k in call.keywords if k.arg in ("key", "field")), None)
            )
            forms = key_forms(argument, names) if argument is not None else None
            if forms is None:
                hidden.append(where)
                continue
            use = Use(
                where,
                values=values_of(call),
                checks_values=name in ("text", "buttons", "button", "wording"),
            )
            if name in ("wording", "has_wording"):
                use.fields, use.field_patterns = forms
            else:
                use.keys, use.patterns = forms
            found.append(use)
    return found, hidden


USES, HIDDEN = uses()


def keys_of(use: Use) -> Set[str]:
    """The catalogue's keys a use can name."""
    found = {key for key in use.keys if key in ENGLISH}
    found |= {key for key in ENGLISH for pattern in use.patterns if re.fullmatch(pattern, key)}
    for request in KINDS:
        prefix = f"request.{request.kind}."
        found |= {prefix + name for name in use.fields if prefix + name in ENGLISH}
        found |= {
            key
            for key in ENGLISH
            for pattern in use.field_patterns
            if key.startswith(prefix) and re.fullmatch(pattern, key[len(prefix) :])
        }
    return found


def test_the_scan_sees_the_calls():
    assert len(USES) > 100
    assert any(use.where.startswith("actions.") for use in USES)
    assert any("flow.code.sent" in use.keys for use in USES)


def test_every_key_the_code_names_exists():
    missing = [
        f"{use.where}: {use.keys or use.patterns or use.fields or use.field_patterns}"
        for use in USES
        if not keys_of(use)
        or any(key not in ENGLISH for key in use.keys)
        or any(not any(re.fullmatch(p, k) for k in ENGLISH) for p in use.patterns)
    ]
    assert missing == []


def test_every_key_is_named_only_where_the_code_shows_it():
    """A key built at run time cannot be checked; only a kind of request's own wording, read
    through its `text_key`, is (and the tests above check it per kind)."""
    assert {where.split(":")[0] for where in HIDDEN} <= {"bot.requests.registry"}


def test_every_template_gets_the_values_it_needs():
    problems = []
    for use in USES:
        if not use.checks_values or use.values is None:
            continue
        for key in keys_of(use):
            missing = set(ENGLISH[key].placeholders) - use.values
            if missing:
                problems.append(f"{use.where}: {key} needs {', '.join(sorted(missing))}")
    assert problems == []


def response_references() -> Set[str]:
    """The responses the dialogue and the actions name: in rules and stories, and as strings
    in the code (`utter_message(response="utter_help")`)."""
    found: Set[str] = set()
    for path in list((ROOT / "data").rglob("*.yml")) + list((ROOT / "tests").rglob("*.yml")):
        found |= set(re.findall(r"\butter_[a-z_]+", path.read_text(encoding="utf-8")))
    for tree in TREES.values():
        found |= {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("utter_")
        }
    return found


# Keys the web pages name in templates and scripts, which this file's reading of Python cannot
# see; tests/unit/test_web.py checks them both ways (every key a page names exists in both
# languages, every such key is named by a page).
WEB_PAGE_PREFIXES = ("web.page.", "web.chat.", "web.staff.", "web.download.")


def test_every_key_is_used():
    used = set().union(*(keys_of(use) for use in USES))
    used |= {key for key in ENGLISH if key.startswith(WEB_PAGE_PREFIXES)}
    responses = {key for key in ENGLISH if key.split(".")[0].startswith("utter_")}
    unused = sorted(set(ENGLISH) - used - responses)
    assert unused == []


def test_every_response_is_in_the_domain_and_said_somewhere():
    names = {key.split(".")[0] for key in ENGLISH if key.startswith("utter_")}
    assert names == set(DOMAIN["responses"])
    assert names - response_references() == set()


# -- no reply text is written in an action ----------------------------------------------------

ACTION_FILES = sorted((ROOT / "actions").glob("*.py"))
LONG = 25  # a literal longer than this with a space in it reads like a sentence
# String literals in actions/ that look like words but are not said to anyone, each with why.
ALLOWED_IN_ACTIONS = {
    (
        "forms.py",
        "a question, not an answer",
    ): "marks a digression inside `_check`; the `except` answers the question instead, so the "
    "message is never said",
}
LOGGING_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}


def docstrings(tree: ast.AST) -> Set[int]:
    """The ids of the docstring nodes, and of the `__doc__` of classes made with `type()`."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "__doc__":
                    found |= {id(part) for part in ast.walk(value)}
    return found


def logged(tree: ast.AST) -> Set[int]:
    """The ids of everything passed to a logging call (`log.error("...", ...)`)."""
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LOGGING_METHODS
        ):
            for argument in node.args:
                found |= {id(part) for part in ast.walk(argument)}
    return found


def is_literal(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(
        node, ast.JoinedStr
    )


def reply_literals(path: Path) -> List[str]:
    """What is written as a reply in an action: a literal `text=` of `utter_message` or of a
    `Reply`, a literal button title, and any other sentence-like string literal."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = docstrings(tree) | logged(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("utter_message", "Reply"):
                given = [k.value for k in node.keywords if k.arg == "text"]
                given += node.args[:1] if name == "Reply" else []
                found += [
                    f"{path.name}:{node.lineno}: text= literal" for v in given if is_literal(v)
                ]
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "title" and is_literal(value):
                    found.append(f"{path.name}:{node.lineno}: a button title literal")
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and len(node.value) > LONG
            and " " in node.value
            and (path.name, node.value) not in ALLOWED_IN_ACTIONS
        ):
            found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    return sorted(found, key=lambda line: int(line.split(":")[1]))


@pytest.mark.parametrize("path", ACTION_FILES, ids=[p.name for p in ACTION_FILES])
def test_actions_write_no_reply_text(path):
    assert reply_literals(path) == []


def test_the_check_finds_replies_written_in_an_action(tmp_path: Path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def run(dispatcher):\n"
        '    """A docstring may say anything it likes, at any length."""\n'
        '    log.error("Could not do the thing at all: %s", 1)\n'
        '    dispatcher.utter_message(text="Hi")\n'
        '    dispatcher.utter_message(text=f"Hi {name}")\n'
        '    dispatcher.utter_message(buttons=[{"title": "Skip", "payload": "s"}])\n'
        '    reply = Reply("Done")\n'
        '    said = "This is a whole sentence said to a visitor."\n'
    )
    assert [line.split(": ", 1)[1] for line in reply_literals(sample)] == [
        "text= literal",
        "text= literal",
        "a button title literal",
        "text= literal",
        "'This is a whole sentence said to a visitor.'",
    ]


def test_the_allowed_literals_are_still_there():
    """An entry no literal matches any more goes, so that it cannot come back unnoticed."""
    for name, literal in ALLOWED_IN_ACTIONS:
        assert repr(literal)[1:-1] in (ROOT / "actions" / name).read_text(encoding="utf-8")
