"""The coverage map holds against the parsed policy, and recognises the topics it names."""

import pytest

from bot.policy.coverage import (
    ADDRESSED,
    PARTLY,
    SILENT,
    Cue,
    check_against,
    load_coverage,
    parse_coverage,
)
from bot.policy.document import load_policy

POLICY = load_policy()
COVERAGE = load_coverage()

OPP_115 = ("first-party collection and use", "third-party sharing and collection",
           "user choice and control", "user access, edit and deletion", "data retention",
           "data security", "policy change", "do not track",
           "international and specific audiences")
VIDEO_MEETING_TOPICS = ("meeting_recordings", "chat_messages", "camera_microphone",
                        "screen_sharing", "meeting_metadata", "other_participants", "location",
                        "device_identifiers", "cookies", "targeted_advertising",
                        "transcription_ai", "law_enforcement", "breach_notification",
                        "data_protection_officer", "portability", "automated_decisions")


def test_every_entry_holds_against_the_parsed_text():
    assert check_against(COVERAGE, POLICY) == []


def test_every_opp_115_category_and_every_video_meeting_topic_is_mapped():
    assert set(OPP_115) <= {t.category for t in COVERAGE.topics}
    ids = {t.id for t in COVERAGE.topics}
    assert set(VIDEO_MEETING_TOPICS) <= ids
    assert all(COVERAGE.by_status()[status] for status in (ADDRESSED, PARTLY, SILENT))


def test_every_topic_has_an_english_and_a_chinese_name():
    assert all(t.name and t.name_zh for t in COVERAGE.topics)


def entry(**changes):
    base = {"id": "x", "name": "x", "category": "other", "status": SILENT, "absent": ["zebra"]}
    return parse_coverage({"topics": [{**base, **changes}]})


@pytest.mark.parametrize("changes,problem", [
    ({"absent": ["encryption"]}, "silent, but the text has 'encryption'"),
    ({"absent": []}, "silent needs `absent` words"),
    ({"status": PARTLY, "sections": ["security"], "evidence": ["we encrypt everything"],
      "says": "s", "leaves_out": "l"}, "is not in security"),
    ({"status": PARTLY, "sections": ["security"], "evidence": ["SSL encryption"]},
     "partly needs `says` and `leaves_out`"),
    ({"status": ADDRESSED, "sections": ["nowhere"], "evidence": ["SSL"]}, "no section 'nowhere'"),
    ({"status": ADDRESSED, "sections": ["security"]}, "needs sections and evidence"),
])
def test_the_check_finds_a_map_that_says_more_than_the_text(changes, problem):
    problems = check_against(entry(**changes), POLICY)
    assert any(problem in p for p in problems), problems


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError):
        entry(status="mostly")


@pytest.mark.parametrize("cue,words,found", [
    ("record*", ["recording", "me"], True),
    ("record*", ["recorder"], True),
    ("record", ["recording"], False),
    ("cloud recording*", ["my", "cloud", "recordings"], True),
    ("cloud recording*", ["cloud", "storage", "recordings"], False),
    ("ip", ["zip"], False),
])
def test_cues_match_whole_words_and_prefixes(cue, words, found):
    assert Cue.parse(cue).found_in(words) is found


@pytest.mark.parametrize("question,topic", [
    ("can the app turn on my webcam and watch me", "camera_microphone"),
    ("how long do you keep my recordings", "meeting_recordings"),
    ("how long do you keep my information", "retention"),
    ("do you track where I am with GPS", "location"),
    ("is my card number stored", "payment_information"),
    ("do you use cookies on the site", "cookies"),
    ("will the government get my data", "law_enforcement"),
])
def test_questions_find_their_topic(question, topic):
    match = COVERAGE.match(question)
    assert match is not None and match.topic.id == topic


@pytest.mark.parametrize("question", [
    "how do I mute my microphone",  # support, not privacy: camera topics need a privacy word
    "my webcam shows a black screen",
    "who do you share my data with",  # the policy addresses it: no open topic
    "",
])
def test_no_open_topic_where_there_is_none(question):
    match = COVERAGE.match(question)
    assert match is None or not match.topic.open
