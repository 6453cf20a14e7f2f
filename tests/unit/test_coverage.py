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

OPP_115 = (
    "first-party collection and use",
    "third-party sharing and collection",
    "user choice and control",
    "user access, edit and deletion",
    "data retention",
    "data security",
    "policy change",
    "do not track",
    "international and specific audiences",
)
VIDEO_MEETING_TOPICS = (
    "meeting_recordings",
    "chat_messages",
    "camera_microphone",
    "screen_sharing",
    "meeting_metadata",
    "other_participants",
    "location",
    "device_identifiers",
    "cookies",
    "targeted_advertising",
    "transcription_ai",
    "law_enforcement",
    "breach_notification",
    "data_protection_officer",
    "portability",
    "automated_decisions",
)


def test_every_entry_holds_against_the_parsed_text():
    assert check_against(COVERAGE, POLICY) == []


def test_every_opp_115_category_and_every_video_meeting_topic_is_mapped():
    assert set(OPP_115) <= {t.category for t in COVERAGE.topics}
    ids = {t.id for t in COVERAGE.topics}
    assert set(VIDEO_MEETING_TOPICS) <= ids
    assert all(COVERAGE.by_status()[status] for status in (ADDRESSED, PARTLY, SILENT))


def test_every_topic_has_an_english_and_a_chinese_name():
    assert all(t.name.get("en") and t.name.get("zh") for t in COVERAGE.topics)


def entry(**changes):
    base = {
        "id": "x",
        "name": {"en": "x", "zh": "x"},
        "category": "other",
        "status": SILENT,
        "absent": ["zebra"],
    }
    return parse_coverage({"topics": [{**base, **changes}]})


@pytest.mark.parametrize(
    "changes,problem",
    [
        ({"absent": ["encryption"]}, "silent, but the text has 'encryption'"),
        ({"absent": []}, "silent needs `absent` words"),
        (
            {
                "status": PARTLY,
                "sections": ["security"],
                "evidence": ["we encrypt everything"],
                "says": {"en": "s", "zh": "s"},
                "leaves_out": {"en": "l", "zh": "l"},
            },
            "is not in security",
        ),
        (
            {"status": PARTLY, "sections": ["security"], "evidence": ["SSL encryption"]},
            "partly needs `says` and `leaves_out`",
        ),
        (
            {"status": ADDRESSED, "sections": ["nowhere"], "evidence": ["SSL"]},
            "no section 'nowhere'",
        ),
        ({"status": ADDRESSED, "sections": ["security"]}, "needs sections and evidence"),
    ],
)
def test_the_check_finds_a_map_that_says_more_than_the_text(changes, problem):
    problems = check_against(entry(**changes), POLICY)
    assert any(problem in p for p in problems), problems


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError):
        entry(status="mostly")


@pytest.mark.parametrize(
    "cue,words,found",
    [
        ("record*", ["recording", "me"], True),
        ("record*", ["recorder"], True),
        ("record", ["recording"], False),
        ("cloud recording*", ["my", "cloud", "recordings"], True),
        ("cloud recording*", ["cloud", "storage", "recordings"], False),
        ("ip", ["zip"], False),
    ],
)
def test_cues_match_whole_words_and_prefixes(cue, words, found):
    assert Cue.parse(cue).found_in(words) is found


@pytest.mark.parametrize(
    "question,topic",
    [
        ("can the app turn on my webcam and watch me", "camera_microphone"),
        ("how long do you keep my recordings", "meeting_recordings"),
        ("how long do you keep my information", "retention"),
        ("do you track where I am with GPS", "location"),
        ("is my card number stored", "payment_information"),
        ("do you use cookies on the site", "cookies"),
        ("will the government get my data", "law_enforcement"),
        ("is the policy available in other languages", "policy_languages"),
        ("隐私政策有没有简体中文版", "policy_languages"),
        ("can you hear me during meetings", "camera_microphone"),
        ("what permissions does the app need on my phone", "device_permissions"),
        ("do I have to sign up to join a meeting", "account_registration"),
        ("do you keep my location data", "location"),
    ],
)
def test_questions_find_their_topic(question, topic):
    match = COVERAGE.match(question)
    assert match is not None and match.topic.id == topic


@pytest.mark.parametrize(
    "question",
    [
        "how do I mute my microphone",  # support, not privacy: camera topics need a privacy word
        # a language switch, not a question about the policy's versions
        "can you answer in chinese",
        "请用中文回答",
        "my webcam shows a black screen",
        "who do you share my data with",  # the policy addresses it: no open topic
        # words that make a cue mean something the policy addresses (`unless`, or a narrower cue)
        "how will I hear about changes to the policy",  # updates, not the microphone
        "where are your servers located",  # storage, not location data
        "what is the location of your servers",
        "which data centre location hosts my data",
        "do kids need their parents' permission",  # a minor's consent, not device permissions
        "can children sign up",  # the minors section
        "",
    ],
)
def test_no_open_topic_where_there_is_none(question):
    match = COVERAGE.match(question)
    assert match is None or not match.topic.open


# -- Chinese questions --------------------------------------------------------------------------


def test_the_chinese_cues_are_complete_and_can_match():
    from bot.policy.coverage import check_languages

    assert check_languages(COVERAGE) == []


@pytest.mark.parametrize(
    "changes,problem",
    [
        ({"cues": {"en": ["zebra*"]}}, "x: no `cues` in zh"),
        (
            {"cues": {"en": ["zebra*"], "zh": ["斑马"]}, "requires": {"en": ["see"]}},
            "no `requires` in zh",
        ),
        ({"cues": {"en": ["zebra*"], "zh": ["zebra"]}}, "has no character of its script"),
        ({"cues": {"en": ["zebra*"], "zh": ["斑馬"]}}, "is not normalised"),
        ({"cues": {"en": ["zebra*"], "zh": ["ＧＰＳ定位"]}}, "is not normalised and lower case"),
        (
            {"cues": {"en": ["zebra*"], "zh": ["斑马"]}, "unless": {"en": ["zoo"]}},
            "no `unless` in zh",
        ),
        (
            {
                "cues": {"en": ["zebra*"], "zh": ["斑马"]},
                "unless": {"en": ["zoo"], "zh": ["動物園"]},
            },
            "is not normalised",
        ),
    ],
)
def test_the_chinese_check_finds_cues_that_cannot_work(changes, problem):
    from bot.policy.coverage import check_languages

    problems = check_languages(entry(**changes))
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "question,topic",
    [
        ("你们的软件会不会偷偷打开我的摄像头", "camera_microphone"),
        ("开会时你们能监听我的麦克风吗", "camera_microphone"),
        ("会议会被你们录制下来吗", "meeting_recordings"),
        ("你们会把会议录像存到云端吗", "meeting_recordings"),
        ("App会获取我的地理位置吗", "location"),
        ("你们会定位我吗", "location"),
        ("会不会拿我的信息做定向广告", "targeted_advertising"),
        ("你们收集人脸信息吗", "biometrics"),
        ("我的数据你们保存多久", "retention"),
        ("警方来要我的资料你们会给吗", "law_enforcement"),
        ("我的聊天记录你们能看到吗", "chat_messages"),
        ("你們會收集我的位置信息嗎", "location"),  # Traditional characters
        ("你们会用我的数据训练AI吗", "transcription_ai"),  # an English word in a Chinese question
        ("会不会偷偷访问我的camera", "camera_microphone"),
        ("我的银行卡号你们存在哪", "payment_information"),
        ("你们的员工能看到我的个人信息吗", "staff_access"),
        ("个人信息保护负责人是谁", "data_protection_officer"),
        ("怎么撤回同意", "opting_out_of_sharing"),
    ],
)
def test_chinese_questions_find_their_topic(question, topic):
    match = COVERAGE.match(question)
    assert match is not None and match.topic.id == topic, match


@pytest.mark.parametrize(
    "question",
    [
        "我的摄像头黑屏了",  # support, not privacy: camera topics need a privacy word
        "麦克风怎么静音",
        "你们会把我的数据卖给别人吗",  # the policy addresses it: no open topic
        "我的数据存储在什么位置",  # storage is addressed; "位置" alone is not location data
        "你们服务器的地理位置在哪",  # where the servers are: storage, not the visitor's location
        "支付宝账号算个人信息吗",  # the definitions name Alipay accounts
        "我想转人工",
        "隐私政策什么时候生效",
        "孩子注册需要家长同意吗",  # the minors section, not account registration
    ],
)
def test_no_open_topic_in_a_chinese_question_where_there_is_none(question):
    match = COVERAGE.match(question)
    assert match is None or not match.topic.open, match


@pytest.mark.parametrize(
    "question",
    [
        "can the app turn on my webcam and watch me",
        "how do I mute my microphone",
        "how long do you keep my recordings",
        "do you show me adverts",
        "is my card number stored",
    ],
)
def test_an_english_question_is_matched_by_the_english_cues_alone(question):
    from bot.policy.coverage import Question

    read = COVERAGE.read(question)
    english = Question(read.words, "", ("en",))
    for topic in COVERAGE.topics:
        assert topic.cue_in(read) == topic.cue_in(english)
