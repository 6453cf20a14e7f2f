"""The parser must find every section of the published text, in order, with its gaps."""

import pytest
import yaml

from bot.core.paths import POLICY_TEXT, SECTION_MAP
from bot.policy.document import (
    PolicyFormatError,
    load_policy,
    normalise_paragraph,
    parse_policy,
    split_sentences,
)

SECTION_MAP_DATA = yaml.safe_load(SECTION_MAP.read_text(encoding="utf-8"))
POLICY_RAW = POLICY_TEXT.read_text(encoding="utf-8")


def test_the_data_copies_are_the_published_policy():
    shared = POLICY_TEXT.parent.parent.parent.parent / "shared" / "policy"
    if not shared.exists():
        pytest.skip("../shared/policy is not beside this checkout")
    assert POLICY_TEXT.read_bytes() == (shared / "privacy_policy.txt").read_bytes()
    assert SECTION_MAP.read_bytes() == (shared / "sections.yml").read_bytes()


def test_every_section_of_the_map_is_parsed_in_order_and_not_empty():
    policy = load_policy()
    assert policy.section_ids == [entry["id"] for entry in SECTION_MAP_DATA["sections"]]
    positions = []
    for entry, section in zip(SECTION_MAP_DATA["sections"], policy.sections, strict=True):
        assert section.heading == entry["heading"]
        assert section.body.startswith(normalise_paragraph(entry["starts_with"]))
        assert section.sentences, f"{section.id} has no sentences"
        positions.append(" ".join(POLICY_RAW.split()).find(" ".join(entry["starts_with"].split())))
    assert positions == sorted(positions) and min(positions) >= 0


def test_sections_do_not_swallow_the_next_heading():
    policy = load_policy()
    headings = [s.heading for s in policy.sections if s.heading_in_text]
    for section in policy.sections:
        for heading in headings:
            assert heading not in section.paragraphs, f"{heading!r} inside {section.id}"


def test_the_two_sections_without_a_heading_are_known():
    policy = load_policy()
    assert [s.id for s in policy.sections if not s.heading_in_text] == ["overview", "liability"]


def test_title_effective_date_and_postal_contact():
    policy = load_policy()
    assert policy.title == "Privacy policy"
    assert policy.effective_date == "November 25, 2020"
    assert (
        policy.postal_contact.addressee == "Tianjin Weidijia Technology Co.,Ltd. Legal department"
    )
    assert policy.postal_contact.address == "Aolin Jiatai building, Chaoyang District, Beijing"


def test_gaps_are_anchored_in_their_sections():
    policy = load_policy()
    gaps = {s.id: [(g.kind, g.anchor) for g in s.gaps] for s in policy.sections if s.gaps}
    assert gaps == {
        "collection": [("list", "Some of the reasons we collect personal information include:")],
        "use": [("list", "We may use your personal information in the following ways:")],
        "security": [("email", "please contact us at email address:")],
        "contact": [("email", "please email to:")],
    }
    # A list gap really is the last words of its section: nothing follows.
    for section_id in ("collection", "use"):
        section = policy.section(section_id)
        assert section.body.endswith(section.gaps[0].anchor)


def test_a_missing_section_fails_loudly():
    broken = POLICY_RAW.replace("We do not sell or rent personal information", "We never sell")
    with pytest.raises(PolicyFormatError, match="sharing"):
        parse_policy(broken, SECTION_MAP_DATA)


def test_sections_out_of_order_fail():
    swapped = dict(SECTION_MAP_DATA)
    entries = list(SECTION_MAP_DATA["sections"])
    entries[3], entries[4] = entries[4], entries[3]
    swapped["sections"] = entries
    with pytest.raises(PolicyFormatError):
        parse_policy(POLICY_RAW, swapped)


def test_a_section_map_entry_without_text_fails():
    entries = [dict(e) for e in SECTION_MAP_DATA["sections"]]
    entries[8]["starts_with"] = "   "
    with pytest.raises(PolicyFormatError, match="minors"):
        parse_policy(POLICY_RAW, {"sections": entries})


def test_a_gap_whose_anchor_is_not_in_the_text_fails():
    entries = [dict(e) for e in SECTION_MAP_DATA["sections"]]
    entries[5]["gaps"] = ["'please phone us at:' gives no address"]
    with pytest.raises(PolicyFormatError, match="security"):
        parse_policy(POLICY_RAW, {"sections": entries})


def test_numbered_items_are_readable_sentences():
    policy = load_policy()
    texts = [s.text for s in policy.section("communications").sentences]
    assert texts[0].startswith("1. Mail and message push. When you use our services")
    assert any(t.startswith("2. Service related announcements. We may send") for t in texts)
    liability = [s.text for s in policy.section("liability").sentences]
    assert [t[:5] for t in liability] == ["We ar", "1. An", "2. An", "3. An"]


def test_split_sentences_keeps_company_abbreviations_whole():
    assert split_sentences("Tianjin Weidijia Technology Co.,Ltd. Legal department") == [
        "Tianjin Weidijia Technology Co.,Ltd. Legal department"
    ]
    assert split_sentences("One thing. Two things; Three.") == [
        "One thing.",
        "Two things;",
        "Three.",
    ]
