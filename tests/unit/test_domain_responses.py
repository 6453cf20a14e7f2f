"""domain.yml's `responses:` are generated from the catalogue of texts
(bot/rasa/domain_responses.py): the committed file is what the catalogue renders, the rest of
the file is left byte for byte, and a second language becomes a slot-conditioned variation
before the English default."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml
from rasa.shared.core.domain import Domain

from bot.core.paths import ROOT, TEXTS_DIR
from bot.core.texts import Catalogue
from bot.rasa import domain_responses

DOMAIN_TEXT = domain_responses.DOMAIN_FILE.read_text(encoding="utf-8")


def test_the_committed_responses_are_what_the_catalogue_renders():
    assert domain_responses.render(DOMAIN_TEXT) == DOMAIN_TEXT
    assert domain_responses.main(["--check"]) == 0


def test_the_responses_say_they_are_generated():
    section = DOMAIN_TEXT[DOMAIN_TEXT.index("\nresponses:\n") :]
    assert section.splitlines()[2].startswith("  # Generated from data/texts/")


def test_every_response_has_exactly_the_catalogues_words():
    responses = yaml.safe_load(DOMAIN_TEXT)["responses"]
    catalogue = Catalogue(TEXTS_DIR)
    assert list(responses) == domain_responses.response_names(catalogue)
    zh = [{"type": "slot", "name": "language", "value": "zh"}]
    assert responses["utter_greet"] == [
        {"text": catalogue.text("utter_greet", "zh"), "condition": zh},
        {"text": catalogue.text("utter_greet")},
    ]
    assert responses["utter_help"] == [
        {
            "text": catalogue.text("utter_help.text", "zh"),
            "buttons": catalogue.buttons("utter_help.buttons", "zh"),
            "condition": zh,
        },
        {
            "text": catalogue.text("utter_help.text"),
            "buttons": catalogue.buttons("utter_help.buttons"),
        },
    ]


def test_the_language_switch_is_confirmed_in_the_language_switched_to():
    responses = yaml.safe_load(DOMAIN_TEXT)["responses"]
    catalogue = Catalogue(TEXTS_DIR)
    zh, en = responses["utter_language_set"]
    assert zh["text"] == catalogue.text("utter_language_set", "zh") and "中文" in zh["text"]
    assert "English" in en["text"] and "condition" not in en


def test_the_language_slot_is_filled_from_the_language_entity_only():
    domain = yaml.safe_load(DOMAIN_TEXT)
    slot = domain["slots"]["language"]
    assert slot["type"] == "text" and slot["influence_conversation"] is False
    assert slot["mappings"] == [{"type": "from_entity", "entity": "language"}]
    assert {"language": {"influence_conversation": False}} in domain["entities"]
    assert "set_language" in domain["intents"]
    # A language switch inside a form is never taken as the answer to its question.
    for name, other in domain["slots"].items():
        for mapping in other["mappings"]:
            if mapping["type"] == "from_text":
                assert "set_language" in mapping.get("not_intent", []), name


def test_only_the_responses_section_is_rewritten():
    domain = (
        'version: "3.1"\n# a comment\nintents:\n  - greet\n\nslots:\n  language:\n'
        "    type: text\n\nresponses:\n"
        '  utter_old:\n    - text: "stale"\n\n  # an old comment\n\n'
        "actions:\n  - action_x   # kept\n\n# the end\n"
    )
    rendered = domain_responses.render(domain)
    head = (
        'version: "3.1"\n# a comment\nintents:\n  - greet\n\nslots:\n  language:\n'
        "    type: text\n\n"
    )
    tail = "actions:\n  - action_x   # kept\n\n# the end\n"
    assert rendered == head + domain_responses.render_responses() + tail
    assert "utter_old" not in rendered


def test_a_domain_without_one_responses_section_is_refused():
    with pytest.raises(ValueError, match="exactly one"):
        domain_responses.render("intents:\n  - greet\n")


def test_the_check_fails_on_a_stale_file_and_the_script_rewrites_it(tmp_path: Path):
    stale = tmp_path / "domain.yml"
    stale.write_text(DOMAIN_TEXT.replace("Goodbye, and thank you", "Bye"), encoding="utf-8")
    assert domain_responses.main(["--check"], path=stale) == 1
    assert domain_responses.main([], path=stale) == 0
    assert stale.read_text(encoding="utf-8") == DOMAIN_TEXT


ZH_RESPONSES = {
    "utter_greet": "你好！我是 VideoPro 云会议的隐私助手。",
    "utter_goodbye": "再见，感谢使用 VideoPro 云会议。",
    "utter_youre_welcome": "不客气！",
    "utter_iamabot": "是的，我是自动助手。",
    "utter_out_of_scope": "抱歉，我只能回答隐私问题。",
    "utter_please_rephrase": "抱歉，我没有听懂，请换个说法。",
    "utter_anything_else": "好的。还有其他问题吗？",
}


@pytest.fixture
def bilingual(tmp_path: Path) -> Catalogue:
    """The project's English catalogue with a Chinese one beside it (its responses only)."""
    shutil.copy(TEXTS_DIR / "en.yml", tmp_path / "en.yml")
    english = Catalogue(TEXTS_DIR)
    zh: Dict[str, Any] = dict(ZH_RESPONSES)
    with_buttons = [
        key.rpartition(".")[0]
        for key in english.keys("en")
        if key.startswith("utter_") and key.endswith(".buttons")
    ]
    for response in with_buttons:
        zh[response] = {
            "text": "我可以帮您：",
            "buttons": [
                {"title": f"选项 {i}", "payload": b["payload"]}
                for i, b in enumerate(english.buttons(f"{response}.buttons"))
            ],
        }
    (tmp_path / "zh.yml").write_text(yaml.safe_dump(zh, allow_unicode=True), encoding="utf-8")
    return Catalogue(tmp_path)


def with_language_slot(domain: str) -> str:
    """The domain as it is (it declares the `language` slot)."""
    assert "\n  language:\n    type: text\n" in domain
    return domain


def without_language_slot(domain: str) -> str:
    start = domain.index("\n  language:\n    type: text\n")
    end = domain.index("\n  last_section:", start)
    return domain[:start] + domain[end:]


def test_a_second_language_is_a_variation_before_the_english_default(bilingual, tmp_path):
    domain = with_language_slot(DOMAIN_TEXT)
    rendered = domain_responses.render(domain, bilingual)
    responses = yaml.safe_load(rendered)["responses"]
    assert responses["utter_goodbye"] == [
        {
            "text": ZH_RESPONSES["utter_goodbye"],
            "condition": [{"type": "slot", "name": "language", "value": "zh"}],
        },
        {"text": "Goodbye, and thank you for using VideoPro Cloud Meeting."},
    ]
    help_zh, help_en = responses["utter_help"]
    assert [b["payload"] for b in help_zh["buttons"]] == [b["payload"] for b in help_en["buttons"]]
    assert "condition" not in help_en and help_en["text"].startswith("Here is what I can help")
    # Rasa reads it: the conditioned variation and the default, for every response.
    path = tmp_path / "domain.yml"
    path.write_text(rendered, encoding="utf-8")
    loaded = Domain.load(str(path))
    assert len(loaded.responses["utter_greet"]) == 2
    assert loaded.responses["utter_greet"][0]["condition"] == [
        {"type": "slot", "name": "language", "value": "zh"}
    ]
    # and everything outside the responses is what it was
    assert rendered.split("\nresponses:\n")[0] == domain.split("\nresponses:\n")[0]
    assert rendered.split("\nactions:\n")[1] == domain.split("\nactions:\n")[1]


def test_a_second_language_needs_the_language_slot(bilingual):
    with pytest.raises(ValueError, match="`language` slot"):
        domain_responses.render(without_language_slot(DOMAIN_TEXT), bilingual)


def test_rasa_loads_the_committed_domain_with_every_response():
    loaded = Domain.load(str(ROOT / "domain.yml"))
    assert set(loaded.responses) == set(domain_responses.response_names(Catalogue(TEXTS_DIR)))
