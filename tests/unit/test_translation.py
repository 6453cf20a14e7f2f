"""The reference translation is aligned with the parsed English, sentence by sentence, and the
alignment check finds every way it can drift from the text."""

import copy
from datetime import date

import pytest
import yaml

from bot.core.texts import text
from bot.policy.document import load_policy, parse_policy
from bot.policy.translation import (
    TRANSLATION_FILES,
    TranslationFormatError,
    check_alignment,
    effective_date_of,
    load_translation,
    paragraph_translation,
    parse_translation,
    translate,
)

POLICY = load_policy()
LABEL = "参考译文，以英文原文为准"

# A policy of our own, small enough to see whole, and its translation.
SMALL_TEXT = """Small policy

Effective date: March 3, 2021

We keep your data safe. We never sell it.

Sharing

We share data with our subsidiaries.

Contact

Write to us.

Legal department

Address: 1 Harbour Road, Tianjin
"""
SMALL_MAP = {
    "sections": [
        {"id": "overview", "heading": "About", "starts_with": "We keep your data safe."},
        {"id": "sharing", "heading": "Sharing", "starts_with": "We share data"},
        {"id": "contact", "heading": "Contact", "starts_with": "Write to us."},
    ]
}
SMALL_TRANSLATION = {
    "language": "zh",
    "label": LABEL,
    "title_zh": "小政策",
    "sections": [
        {
            "id": "overview",
            "heading": "About",
            "heading_zh": "关于",
            "sentences": [
                {"en": "We keep your data safe.", "zh": "我们妥善保管您的数据。"},
                {"en": "We never sell it.", "zh": "我们从不出售数据。"},
            ],
        },
        {
            "id": "sharing",
            "heading": "Sharing",
            "heading_zh": "共享",
            "sentences": [
                {"en": "We share data with our subsidiaries.", "zh": "我们与子公司共享数据。"}
            ],
        },
        {
            "id": "contact",
            "heading": "Contact",
            "heading_zh": "联系我们",
            "sentences": [
                {"en": "Write to us.", "zh": "请写信给我们。"},
                {"en": "Legal department", "zh": "法务部"},
                {"en": "Address: 1 Harbour Road, Tianjin", "zh": "地址：1 Harbour Road, Tianjin"},
            ],
        },
    ],
}
SMALL = parse_policy(SMALL_TEXT, SMALL_MAP)


def small(change=None):
    data = copy.deepcopy(SMALL_TRANSLATION)
    if change:
        change(data)
    return parse_translation(data)


def test_the_projects_translation_is_aligned_with_the_parsed_policy():
    translation = load_translation("zh")
    assert check_alignment(translation, POLICY) == []
    assert translation.language == "zh" and translation.label == LABEL
    for section in POLICY.sections:
        assert translation.heading(section.id)
        for sentence in section.sentences:
            assert translation.sentence(section.id, sentence.text)


def test_the_file_has_the_documented_shape():
    data = yaml.safe_load(TRANSLATION_FILES["zh"].read_text(encoding="utf-8"))
    assert set(data) == {"language", "label", "title_zh", "sections"}
    for entry in data["sections"]:
        assert set(entry) == {"id", "heading", "heading_zh", "sentences"}
        assert all(set(pair) == {"en", "zh"} for pair in entry["sentences"])


def test_the_small_fixture_is_aligned():
    assert check_alignment(small(), SMALL) == []


def _drop_sentence(data):
    data["sections"][0]["sentences"].pop()


def _edit_english(data):
    data["sections"][0]["sentences"][0]["en"] = "We keep your data very safe."


def _swap_sections(data):
    data["sections"].reverse()


def _rename_section(data):
    data["sections"][1]["id"] = "sharing_with_others"


def _old_heading(data):
    data["sections"][1]["heading"] = "Information sharing"


def _untranslated(data):
    data["sections"][1]["sentences"][0]["zh"] = ""


def _english_left_in(data):
    data["sections"][1]["sentences"][0]["zh"] = "We share data with our subsidiaries."


def _no_chinese_heading(data):
    data["sections"][0]["heading_zh"] = ""


def _extra_sentence(data):
    data["sections"][1]["sentences"].append({"en": "We also sell it.", "zh": "我们也出售数据。"})


def _reordered_sentences(data):
    data["sections"][0]["sentences"].reverse()


@pytest.mark.parametrize(
    "change,problem",
    [
        (_drop_sentence, "overview: no translation of 'We never sell it.'"),
        (_edit_english, "overview: sentence 1 is 'We keep your data very safe.'"),
        (_reordered_sentences, "overview: sentence 1 is 'We never sell it.'"),
        (_swap_sections, "are not the policy's"),
        (_rename_section, "are not the policy's"),
        (_old_heading, "sharing: heading 'Information sharing' is not the parsed 'Sharing'"),
        (_untranslated, "has no zh translation"),
        (_english_left_in, "has no zh translation"),
        (_no_chinese_heading, "overview: no zh heading"),
        (_extra_sentence, "'We also sell it.' is not a sentence of the parsed text"),
    ],
)
def test_the_check_finds_a_translation_that_drifted_from_the_text(change, problem):
    problems = check_alignment(small(change), SMALL)
    assert any(problem in p for p in problems), problems


def test_a_changed_english_text_is_found_against_the_old_translation():
    changed = parse_policy(SMALL_TEXT.replace("We never sell it.", "We may sell it."), SMALL_MAP)
    problems = check_alignment(small(), changed)
    assert problems == [
        "overview: sentence 2 is 'We never sell it.', the parsed text is 'We may sell it.'"
    ]


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"language": "zh", "label": LABEL, "sections": []},
        {"language": "zh", "sections": SMALL_TRANSLATION["sections"]},
        {"language": "zh", "label": LABEL, "sections": [{"heading": "About", "sentences": []}]},
        {
            "language": "zh",
            "label": LABEL,
            "sections": [{"id": "x", "heading": "X", "sentences": [{"zh": "只有译文"}]}],
        },
    ],
)
def test_a_file_of_the_wrong_shape_is_refused(data):
    with pytest.raises(TranslationFormatError):
        parse_translation(data)


def test_a_translation_is_found_by_the_english_sentence():
    translation = small()
    assert translation.sentence("overview", "We never sell it.") == "我们从不出售数据。"
    assert translation.sentence("overview", "We sell it.") is None
    assert translation.sentence("nowhere", "We never sell it.") is None
    assert translation.heading("sharing") == "共享" and translation.heading("nowhere") == ""


def test_the_effective_date_line_is_translated_from_the_date():
    translation = load_translation("zh")
    overview = POLICY.section("overview")
    from bot.policy.answers import candidates

    line = candidates(POLICY, overview)[0]
    assert line.paragraph < 0 and effective_date_of(POLICY) == date(2020, 11, 25)
    assert translate(POLICY, translation, overview, line) == "生效日期：2020年11月25日。"
    assert text("policy.translation.effective_date", date=date(2020, 11, 25)) == (
        f"Effective date: {POLICY.effective_date}."
    )
    assert effective_date_of(SMALL) == date(2021, 3, 3)


def test_a_paragraph_is_translated_as_its_sentences():
    translation = small()
    overview = SMALL.section("overview")
    assert paragraph_translation(translation, overview, 0) == (
        "我们妥善保管您的数据。我们从不出售数据。"
    )
    assert paragraph_translation(small(_drop_sentence), overview, 0) is None
