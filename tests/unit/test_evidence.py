"""The evidence NLU hands to the action server: clauses, sentence scores, the part classifier."""

import numpy as np
import pytest

from bot.nlu.evidence import (
    Evidence,
    Part,
    by_section,
    digest,
    fit_part_classifier,
    gather,
    policy_sentences,
    read_part,
    split_clauses,
)
from bot.nlu.linear import LinearModel
from bot.policy.document import load_policy

POLICY = load_policy()


@pytest.mark.parametrize("text,parts", [
    ("who do you share my data with and where is it kept?",
     ["who do you share my data with", "where is it kept"]),
    ("how is my data protected? who can see it?", ["how is my data protected", "who can see it"]),
    ("do you sell my data, and how long do you keep it", ["do you sell my data",
                                                          "how long do you keep it"]),
    ("what personal information about me is stored or sold?",
     ["what personal information about me is stored or sold?"]),
    ("can I access and delete my data", ["can I access and delete my data"]),
    ("is it safe and why", ["is it safe and why"]),
    ("do you give my details to other companies and in which country are they stored?",
     # a part of one word is no question
     ["do you give my details to other companies", "in which country are they stored"]),
])
def test_a_message_splits_only_where_a_second_question_starts(text, parts):
    assert split_clauses(text) == parts


def test_evidence_survives_the_tracker_and_junk_is_not_evidence():
    evidence = Evidence("abc", (0.1, 0.25), (Part("a b c", "ask_use", 0.7, (0.3,)),))
    assert Evidence.from_dict(evidence.to_dict()) == evidence
    for junk in (None, "x", {"scores": "no"}, {"scores": [1], "parts": [{"text": "t"}]}):
        assert Evidence.from_dict(junk) is None


def test_scores_are_regrouped_per_section_only_for_the_same_text():
    sentences = policy_sentences(POLICY)
    scores = [float(i) for i in range(len(sentences))]
    grouped = by_section(POLICY, scores, digest(sentences))
    assert list(grouped) == POLICY.section_ids
    assert sum(len(v) for v in grouped.values()) == len(sentences)
    assert grouped["overview"][0] == 0.0  # the effective date line comes first
    assert by_section(POLICY, scores, "another-text") is None
    assert by_section(POLICY, scores[:-1], digest(sentences)) is None


def test_the_part_classifier_reads_vectors_it_was_fitted_on():
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(2, 384))
    vectors = np.vstack([centres[i] + 0.05 * rng.normal(size=(20, 384)) for i in (0, 1)])
    labels = ["ask_use"] * 20 + ["ask_storage"] * 20
    model = fit_part_classifier(vectors.astype(np.float32), labels)
    predicted = [read_part(model, c.astype(np.float32)) for c in centres]
    assert [p[0] for p in predicted] == ["ask_use", "ask_storage"]
    assert all(p[1] > 0.9 for p in predicted)


def test_gather_scores_every_sentence_and_reads_parts():
    sentences = policy_sentences(POLICY)
    vectors = np.eye(len(sentences), 4, dtype=np.float32)
    model = LinearModel(("ask_use", "ask_storage"), (("sentence", 4),), np.eye(2, 4) * 5,
                        np.zeros(2))
    one = gather(np.array([1, 0, 0, 0], dtype=np.float32), vectors, "d")
    assert one.scores[0] == 1.0 and one.parts == ()
    two = gather(np.array([1, 0, 0, 0], dtype=np.float32), vectors, "d",
                 [("a b c", np.array([5, 0, 0, 0], dtype=np.float32)),
                  ("d e f", np.array([0, 5, 0, 0], dtype=np.float32))], model)
    assert [p.intent for p in two.parts] == ["ask_use", "ask_storage"]


# ------------------------------------------------------------------ Chinese

@pytest.mark.parametrize("text,parts", [
    ("你们和谁共享我的数据，数据存在哪里？", ["你们和谁共享我的数据", "数据存在哪里"]),
    ("数据保存多久？还有你们会卖给第三方吗", ["数据保存多久", "你们会卖给第三方吗"]),
    ("你们会把我的数据卖给别人吗？另外怎么删除", ["你们会把我的数据卖给别人吗", "怎么删除"]),
    ("我想知道数据存在哪里，以及保存多久", ["我想知道数据存在哪里", "保存多久"]),
    # one question: the pieces without a question of their own join the next one
    ("请问，你们收集哪些数据？", ["请问，你们收集哪些数据？"]),
    ("你们收集姓名以及电话吗", ["你们收集姓名以及电话吗"]),
    ("我想注销账号", ["我想注销账号"]),
    # a part too short to be a question of its own
    ("存哪里？谁能看？", ["存哪里？谁能看？"]),
])
def test_a_chinese_message_splits_where_a_second_question_starts(text, parts):
    assert split_clauses(text) == parts


def test_every_policy_sentence_is_read_in_its_reference_translation():
    from bot.nlu.evidence import translated_texts

    sentences = policy_sentences(POLICY)
    translated = translated_texts(sentences)
    assert len(translated) == len(sentences)
    untranslated = [s.text for s, t in zip(sentences, translated, strict=True) if t == s.text]
    assert untranslated == []


@pytest.mark.parametrize("question,section", [
    ("你们会把我的个人信息卖给别人吗", "sharing"),
    ("我的数据会传到国外吗", "storage"),
    ("隐私政策从什么时候开始生效", "overview"),
    ("孩子可以用你们的产品吗", "minors"),
])
def test_chinese_evidence_finds_the_section_that_answers(question, section):
    from bot.nlu.evidence import chinese_space, gather_chinese

    sentences = policy_sentences(POLICY)
    found = gather_chinese(question, chinese_space(sentences), digest(sentences))
    assert len(found.scores) == len(sentences)
    assert sentences[int(np.argmax(found.scores))].section_id == section
    assert by_section(POLICY, found.scores, found.digest) is not None


def test_chinese_parts_are_read_by_their_own_classifier():
    from bot.nlu.evidence import chinese_space, fit_chinese_parts, gather_chinese

    space, model = fit_chinese_parts(
        ["你们和谁共享数据", "会不会把信息给第三方", "数据给哪些公司", "卖我的信息吗",
         "数据存在哪里", "服务器在哪个国家", "信息存储在境外吗", "数据放在哪"],
        ["ask_sharing"] * 4 + ["ask_storage"] * 4)
    sentences = policy_sentences(POLICY)
    found = gather_chinese("你们和谁共享我的数据", chinese_space(sentences), digest(sentences),
                           ["你们和谁共享我的数据", "数据存储在哪里"], model, space)
    assert [p.intent for p in found.parts] == ["ask_sharing", "ask_storage"]


def test_thresholds_per_language(tmp_path):
    from bot.nlu.evidence import thresholds

    path = tmp_path / "thresholds.yml"
    path.write_text("thresholds: {direct: 0.6, closest: 0.45, evidence: 0.34}\n"
                    "zh:\n  thresholds: {direct: 0.55}\n", encoding="utf-8")
    assert thresholds("en", path) == {"direct": 0.6, "closest": 0.45, "evidence": 0.34}
    # Chinese: its own values over English's, but never English's evidence scale
    assert thresholds("zh", path) == {"direct": 0.55, "closest": 0.45, "evidence": 0.0}
    assert thresholds(None, path) == thresholds("en", path)
    bare = tmp_path / "bare.yml"
    bare.write_text("thresholds: {direct: 0.6, evidence: 0.34}\n", encoding="utf-8")
    assert thresholds("zh", bare) == {"direct": 0.6, "evidence": 0.0}
    assert thresholds("en", tmp_path / "missing.yml") == {}
