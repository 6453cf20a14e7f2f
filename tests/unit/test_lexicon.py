"""bot.core.lexicon and bot.conversation.reading: each language's words as data, the same keys in
every language, and how a form finds them in an answer."""

from __future__ import annotations

import pytest
import yaml

from bot.conversation.flows import CORRECTION_ITEMS
from bot.conversation.reading import reader
from bot.core import lexicon as lexicon_module
from bot.core.language import LANGUAGES, registry
from bot.core.lexicon import LEXICON_DIR, Lexicon, LexiconError, check, lexicon


def test_every_language_has_the_same_lexicon_keys():
    assert check() == []


def test_every_registered_language_names_every_correction_item():
    for code in LANGUAGES:
        assert tuple(lexicon(code).groups("forms.correction_items")) == (
            "name",
            "email",
            "phone",
            "wechat",
            "alipay",
            "other",
        )
        assert set(lexicon(code).groups("forms.correction_items")) == set(CORRECTION_ITEMS)


def test_no_lexicon_file_is_read_as_rasa_training_data():
    """Rasa reads every YAML file under data/ with one of these keys as training data."""
    for path in LEXICON_DIR.glob("*/*.yml"):
        assert not {"nlu", "rules", "stories", "responses"} & set(
            yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        ), path


def test_patterns_compile_as_written():
    for code in LANGUAGES:
        for key, leaf in lexicon(code).entries.items():
            if isinstance(leaf, str):
                lexicon(code).pattern(key)  # a broken pattern fails here, not in a conversation


@pytest.mark.parametrize(
    "text, problem",
    [
        ("forms:\n  yes: [ok]\n", "is not a word"),
        ("forms:\n  skip: [yes, none]\n", "a leaf is a list of words"),
        ("forms:\n  noise: 3.5\n", "a leaf is a list of words"),
    ],
)
def test_what_yaml_reads_as_true_or_a_number_is_refused(tmp_path, text, problem):
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "forms.yml").write_text(text, encoding="utf-8")
    with pytest.raises(LexiconError, match=problem):
        Lexicon.load("xx", tmp_path)


def test_a_key_twice_a_missing_key_or_a_missing_language_fails_loudly(tmp_path):
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "a.yml").write_text("forms:\n  stop: [stop]\n", encoding="utf-8")
    words = Lexicon.load("xx", tmp_path)
    with pytest.raises(LexiconError, match="forms.skip"):
        words.words("forms.skip")
    with pytest.raises(LexiconError, match="not a pattern"):
        words.pattern("forms.stop")
    with pytest.raises(LexiconError, match="no lexicon for language 'yy'"):
        Lexicon.load("yy", tmp_path)
    (tmp_path / "xx" / "b.yml").write_text("forms:\n  stop: [halt]\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="forms.stop is defined in another file"):
        Lexicon.load("xx", tmp_path)


def test_a_group_of_patterns_only_is_a_word_mapping_and_says_so(tmp_path):
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "a.yml").write_text("kind:\n  how_long: 'a|b'\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="kind is a word mapping"):
        Lexicon.load("xx", tmp_path).pattern("kind.how_long")


def test_the_check_names_a_missing_key_and_a_shape(tmp_path):
    for code, text in (
        ("aa", "forms:\n  stop: [stop]\n  skip: [skip]\n  word: 'x'\n"),
        ("bb", "forms:\n  stop: [halt]\n  word: [x]\n  extra: [x]\n"),
    ):
        (tmp_path / code).mkdir()
        (tmp_path / code / "forms.yml").write_text(text, encoding="utf-8")
    assert lexicon_module.check(("aa", "bb"), tmp_path) == [
        "bb: no forms.skip (the aa lexicon has it)",
        "bb: forms.extra is not in the aa lexicon",
        "bb: forms.word is not shaped as in aa",
    ]


def _by_match(match: str) -> str:
    return next(lang.code for lang in registry().languages if lang.match == match)


@pytest.mark.parametrize(
    "method, text, key, found",
    [
        ("is_one_of", "Yes!", "forms.yes", True),
        ("is_one_of", "yes I think", "forms.yes", False),
        ("is_one_of", "That’s right", "forms.yes", True),
        ("is_one_of", "-", "forms.skip", True),
        ("contains", "only my email", "forms.specific", True),
        ("contains", "onlyness", "forms.specific", False),
        ("mentions", "please resending", "forms.resend", True),
        ("starts_with", "yes", "forms.yes_starts", False),
        ("search", "I DON’T agree", "forms.negation", True),
    ],
)
def test_a_language_matched_by_words(method, text, key, found):
    assert getattr(reader(_by_match("words")), method)(text, key) is found


@pytest.mark.parametrize(
    "method, text, key, found",
    [
        ("is_one_of", "好的吧！", "forms.yes", True),
        ("is_one_of", "好 的", "forms.yes", True),
        ("is_one_of", "好的提交", "forms.yes", False),
        ("contains", "只删除邮箱", "forms.specific", True),
        ("mentions", "还没收到验证码", "forms.resend", True),
        ("starts_with", "好的，提交吧", "forms.yes_starts", True),
        ("search", "不對", "forms.negation", True),  # Traditional, read as Simplified
    ],
)
def test_a_language_matched_by_characters(method, text, key, found):
    assert getattr(reader(_by_match("characters")), method)(text, key) is found


def test_the_plain_form_of_an_answer():
    assert reader(_by_match("characters")).plain("好的吧！ ") == "好的"
    assert reader(_by_match("characters")).plain("吧") == "吧"  # a particle alone stays
    assert reader(_by_match("words")).plain("That's RIGHT!") == "that s right"
