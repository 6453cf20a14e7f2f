"""The router chooses direct, closest or not covered from confidence and the coverage map."""

import pytest

from bot.conversation.routing import (
    CLOSEST,
    DIRECT,
    NOT_COVERED,
    NOT_POLICY,
    Reading,
    Thresholds,
    decide,
    load_thresholds,
)
from bot.nlu.evidence import Evidence, Part
from bot.policy.coverage import load_coverage
from bot.policy.document import load_policy

POLICY = load_policy()
COVERAGE = load_coverage()
THRESHOLDS = Thresholds(direct=0.5, closest=0.3, policy_mass=0.5, part=0.5, out_of_scope=0.5)


def read(text, *ranking, parts=()):
    evidence = Evidence("d", (), tuple(parts)) if parts else None
    return Reading(text, tuple(ranking), evidence)


def route(reading, thresholds=THRESHOLDS):
    return decide(reading, COVERAGE, thresholds, POLICY.section_ids)


def test_a_confident_section_is_answered_directly():
    decision = route(read("who gets my data", ("ask_sharing", 0.8), ("ask_storage", 0.1)))
    assert (decision.kind, decision.sections) == (DIRECT, ("sharing",))
    assert not decision.abstains


def test_an_unsure_section_is_the_closest_the_policy_comes():
    decision = route(read("hmm my data", ("ask_storage", 0.4), ("ask_sharing", 0.35)))
    assert (decision.kind, decision.sections) == (CLOSEST, ("storage",))
    assert decision.abstains


def test_a_policy_question_too_unclear_for_any_section_is_not_covered():
    decision = route(
        read("data stuff", ("ask_storage", 0.2), ("ask_sharing", 0.2), ("ask_use", 0.2))
    )
    assert decision.kind == NOT_COVERED and decision.topic is None


def test_not_covered_beats_a_weaker_section():
    decision = route(read("blah", ("ask_not_covered", 0.6), ("ask_security", 0.3)))
    assert decision.kind == NOT_COVERED


def test_a_silent_topic_is_never_answered_from_a_section():
    decision = route(read("do you know my location", ("ask_collection", 0.95)))
    assert decision.kind == NOT_COVERED and decision.topic.id == "location"


def test_a_partly_covered_topic_quotes_where_the_text_touches_it():
    decision = route(read("do you encrypt my payment details", ("ask_security", 0.9)))
    assert (decision.kind, decision.sections, decision.topic.id) == (
        CLOSEST,
        ("security",),
        "payment_information",
    )


def test_a_partly_covered_topic_takes_the_section_the_classifier_is_sure_of():
    decision = route(
        read("do you show me adverts", ("ask_communications", 0.7), ("ask_sharing", 0.1))
    )
    assert decision.sections == ("communications",)
    decision = route(read("do you show me adverts", ("greet", 0.7)))
    assert decision.sections == ("sharing",)  # the map's first


def test_a_confident_out_of_scope_reading_keeps_a_topic_word_from_counting():
    decision = route(read("how long does a meeting last", ("out_of_scope", 0.9)))
    assert decision.kind == NOT_POLICY


def test_a_topic_that_needs_privacy_words_counts_even_against_out_of_scope():
    decision = route(read("can the app access my camera", ("out_of_scope", 0.9)))
    assert decision.kind == NOT_COVERED and decision.topic.id == "camera_microphone"


def test_small_talk_and_requests_are_not_policy_questions():
    assert route(read("hello there", ("greet", 0.9))).kind == NOT_POLICY
    assert route(read("qwzx", ("nlu_fallback", 0.3), ("greet", 0.2))).kind == NOT_POLICY


def test_the_fallback_marker_does_not_hide_the_classifier_ranking():
    reading = read(
        "what do you hold on me",
        ("nlu_fallback", 0.3),
        ("ask_collection", 0.28),
        ("ask_storage", 0.27),
        ("ask_use", 0.2),
    )
    assert reading.top == ("ask_collection", 0.28)
    assert route(reading).kind == NOT_COVERED  # policy mass 0.75, no section sure enough


def test_two_parts_get_both_sections():
    parts = (
        Part("who do you share my data with", "ask_sharing", 0.8),
        Part("where is it kept", "ask_storage", 0.7),
    )
    decision = route(
        read(
            "who do you share my data with and where is it kept",
            ("ask_sharing", 0.5),
            ("ask_storage", 0.4),
            parts=parts,
        )
    )
    assert decision.kind == DIRECT and decision.sections == ("sharing", "storage")
    assert decision.parts == ("who do you share my data with", "where is it kept")


def test_an_unsure_part_gives_one_answer():
    parts = (
        Part("who do you share my data with", "ask_sharing", 0.8),
        Part("where is it kept", "ask_storage", 0.3),
    )
    decision = route(read("q", ("ask_sharing", 0.6), parts=parts))
    assert decision.sections == ("sharing",)


def test_a_part_that_says_little_alone_counts_when_the_whole_message_leans_its_way():
    parts = (
        Part("who do you share my data with", "ask_sharing", 0.63),
        Part("where is it kept", "ask_storage", 0.3),
    )
    decision = route(read("q", ("ask_sharing", 0.61), ("ask_storage", 0.37), parts=parts))
    assert decision.sections == ("sharing", "storage")
    decision = route(read("q", ("ask_sharing", 0.9), ("ask_storage", 0.05), parts=parts))
    assert decision.sections == ("sharing",)


def test_parts_about_one_section_are_one_answer():
    parts = (
        Part("do you sell my data", "ask_sharing", 0.9),
        Part("who do you share it with", "ask_sharing", 0.9),
    )
    assert route(read("q", ("ask_sharing", 0.9), parts=parts)).sections == ("sharing",)


def test_reading_from_parse_data():
    reading = Reading.from_parse({"text": "hi", "intent": {"name": "greet", "confidence": 0.9}})
    assert reading.ranking == (("greet", 0.9),) and reading.evidence is None
    parse = {
        "text": "x",
        "intent_ranking": [
            {"name": "ask_use", "confidence": 0.6},
            {"name": "ask_not_covered", "confidence": 0.3},
        ],
        "policy_evidence": {"digest": "d", "scores": [0.1, 0.2]},
    }
    reading = Reading.from_parse(parse)
    assert reading.best_section() == ("use", 0.6)
    assert reading.policy_mass == pytest.approx(0.9)
    assert reading.evidence.scores == (0.1, 0.2)


def test_thresholds_come_from_the_calibration_file(tmp_path):
    path = tmp_path / "thresholds.yml"
    path.write_text("thresholds: {direct: 0.61, closest: 0.33, unknown: 5}\n")
    loaded = load_thresholds(path)
    assert (loaded.direct, loaded.closest, loaded.policy_mass) == (0.61, 0.33, 0.5)
    assert load_thresholds(tmp_path / "missing.yml") == Thresholds()


def test_the_rules_send_exactly_the_routed_intents_to_the_router():
    import yaml

    from bot.conversation.routing import is_routed
    from bot.core.paths import ROOT

    rules = [
        rule
        for path in sorted((ROOT / "data" / "rules").glob("*.yml"))
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    ]
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    to_router = set()
    for rule in rules:
        steps = rule["steps"]
        for step, following in zip(steps, steps[1:], strict=False):
            if "intent" in step and following.get("action") == "action_answer_policy":
                to_router.add(step["intent"])
    expected = {i for i in domain["intents"] + ["nlu_fallback"] if is_routed(i)}
    assert to_router == expected


def test_a_confident_section_the_text_does_not_bear_out_is_only_the_closest():
    floor = Thresholds(direct=0.5, closest=0.3, evidence=0.35)
    reading = read("has this company had privacy issues", ("ask_overview", 0.95))
    assert route(reading, floor).kind == DIRECT  # no evidence: no floor
    decision = decide(reading, COVERAGE, floor, POLICY.section_ids, {"overview": 0.31})
    assert (decision.kind, decision.sections) == (CLOSEST, ("overview",))
    decision = decide(reading, COVERAGE, floor, POLICY.section_ids, {"overview": 0.6})
    assert decision.kind == DIRECT


# -- Chinese ----------------------------------------------------------------------------------


def test_a_language_has_its_own_thresholds_over_the_english_ones(tmp_path):
    path = tmp_path / "thresholds.yml"
    path.write_text(
        "thresholds: {direct: 0.61, closest: 0.33, evidence: 0.34}\n"
        "zh:\n  thresholds: {direct: 0.55, evidence: 0.2}\n"
    )
    english, chinese = load_thresholds(path), load_thresholds(path, language="zh")
    assert (english.direct, english.evidence) == (0.61, 0.34)
    assert (chinese.direct, chinese.closest, chinese.evidence) == (0.55, 0.33, 0.2)


def test_without_a_chinese_block_the_english_evidence_floor_is_not_applied(tmp_path):
    path = tmp_path / "thresholds.yml"
    path.write_text("thresholds: {direct: 0.61, evidence: 0.34}\n")
    chinese = load_thresholds(path, language="zh")
    assert (chinese.direct, chinese.evidence) == (0.61, 0.0)
    assert load_thresholds(tmp_path / "missing.yml", language="zh") == Thresholds()


def test_a_silent_topic_in_chinese_is_never_answered_from_a_section():
    decision = route(read("你们会收集我的位置信息吗", ("ask_collection", 0.95)))
    assert decision.kind == NOT_COVERED and decision.topic.id == "location"


def test_a_partly_covered_topic_in_chinese_is_the_closest():
    decision = route(read("你们怎么保护我的银行卡信息", ("ask_security", 0.9)))
    assert (decision.kind, decision.sections, decision.topic.id) == (
        CLOSEST,
        ("security",),
        "payment_information",
    )


def test_the_reply_is_rendered_in_the_conversations_language():
    from bot.conversation.policy_reply import answer

    reading = read("你们会把我的信息卖给别人吗", ("ask_sharing", 0.9))
    english = answer(POLICY, reading, thresholds=THRESHOLDS)
    chinese = answer(POLICY, reading, thresholds=THRESHOLDS, language="zh")
    assert english.decision == chinese.decision
    assert english.reply.text.startswith("The policy section")
    assert chinese.reply.text.startswith("隐私政策\u201cShare your personal information（")
    assert "参考译文，以英文原文为准" in chinese.reply.text
    silent = answer(
        POLICY, read("会议会被录制吗", ("ask_storage", 0.9)), thresholds=THRESHOLDS, language="zh"
    )
    assert silent.decision.kind == NOT_COVERED
    assert "政策没有" in silent.reply.text and "会议录制" in silent.reply.text
    unknown = answer(POLICY, reading, thresholds=THRESHOLDS, language="fr")
    assert unknown.reply.text == english.reply.text  # anything else is English


def test_a_chinese_closest_reply_names_the_topic_and_what_the_policy_leaves_out():
    from bot.conversation.policy_reply import answer

    topic = COVERAGE.topic("targeted_advertising")
    closest_reply = answer(
        POLICY,
        read("你们会推送个性化广告吗", ("ask_sharing", 0.9)),
        thresholds=THRESHOLDS,
        language="zh",
    ).reply
    assert closest_reply.text.startswith(f"隐私政策没有专门说明{topic.name_in('zh')}")
    assert topic.leaves_out_in("zh") in closest_reply.text


def test_a_chinese_two_part_question_cites_both_sections():
    from bot.conversation.policy_reply import answer

    parts = (
        Part("你们和谁共享我的数据", "ask_sharing", 0.8),
        Part("数据存在哪里", "ask_storage", 0.7),
    )
    answered = answer(
        POLICY,
        read(
            "你们和谁共享我的数据，数据存在哪里？",
            ("ask_sharing", 0.5),
            ("ask_storage", 0.4),
            parts=parts,
        ),
        thresholds=THRESHOLDS,
        language="zh",
    )
    assert answered.decision.sections == ("sharing", "storage")
    for section_id in ("sharing", "storage"):
        assert POLICY.section(section_id).heading in answered.reply.text
