"""The evidence NLU hands to the action server: clauses, sentence scores, the part classifier."""

import numpy as np
import pytest

from bot.nlu.evidence import (
    ENGLISH_BLOCK,
    MULTILINGUAL_BLOCK,
    Clause,
    Evidence,
    Part,
    as_read,
    by_section,
    digest,
    fit_part_classifier,
    gather,
    part_features,
    policy_sentences,
    read_part,
    reads,
    split_clauses,
)
from bot.nlu.linear import LinearModel
from bot.policy.document import load_policy

POLICY = load_policy()


@pytest.mark.parametrize(
    "text,parts",
    [
        (
            "who do you share my data with and where is it kept?",
            ["who do you share my data with", "where is it kept"],
        ),
        (
            "how is my data protected? who can see it?",
            ["how is my data protected", "who can see it"],
        ),
        (
            "do you sell my data, and how long do you keep it",
            ["do you sell my data", "how long do you keep it"],
        ),
        (
            "what personal information about me is stored or sold?",
            ["what personal information about me is stored or sold?"],
        ),
        ("can I access and delete my data", ["can I access and delete my data"]),
        ("is it safe and why", ["is it safe and why"]),
        (
            "do you give my details to other companies and in which country are they stored?",
            # a part of one word is no question
            ["do you give my details to other companies", "in which country are they stored"],
        ),
    ],
)
def test_a_message_splits_only_where_a_second_question_starts(text, parts):
    assert split_clauses(text) == parts


def test_each_measured_two_part_question_splits_into_its_parts():
    """docs/pipelines/two_part_questions.yml measures the part classifier (`python -m bot
    parts`) and the live answers: each question must reach it as its two parts."""
    from bot.devtools.parts import load_questions

    questions = load_questions()
    assert len(questions["en"]) >= 20 and len(questions["zh"]) >= 15
    for question in questions["en"] + questions["zh"]:
        assert len(split_clauses(question.text)) == len(question.intents) == 2, question


@pytest.mark.parametrize(
    "clauses,read",
    [
        (
            ["how is my data protected", "who can see it"],
            ["how is my data protected", "who can see my personal information"],
        ),
        (
            ["why do you need my phone number", "what do you do with it afterwards"],
            [
                "why do you need my phone number",
                "what do you do with my personal information afterwards",
            ],
        ),
        # only the policy was spoken of: "it" is the policy
        (
            ["when did the policy take effect", "where can I read it"],
            ["when did the policy take effect", "where can I read the privacy policy"],
        ),
        (
            ["when did the policy change", "what data does it say you keep"],
            ["when did the policy change", "what data does the privacy policy say you keep"],
        ),
        # an "it" that points at nothing, "them" (people as often as data), the first clause,
        # Chinese
        (
            ["what do you collect", "is it possible to opt out"],
            ["what do you collect", "is it possible to opt out"],
        ),
        (
            ["what do you collect", "how long does it take to delete"],
            ["what do you collect", "how long does it take to delete"],
        ),
        (["do you share my data", "can I stop them"], ["do you share my data", "can I stop them"]),
        (
            ["is it encrypted", "where is it stored"],
            ["is it encrypted", "where is my personal information stored"],
        ),
        (["我的数据存在哪", "它安全吗"], ["我的数据存在哪", "它安全吗"]),
        (
            ["what does the Items policy cover", "Item lists"],
            ["what does the Items policy cover", "Item lists"],
        ),
    ],
)
def test_a_later_clause_that_points_back_is_read_with_what_it_points_to(clauses, read):
    assert as_read(clauses) == read


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
    model = fit_part_classifier(
        [part_features(v.astype(np.float32), None, 1.0) for v in vectors], labels
    )
    predicted = [read_part(model, part_features(c.astype(np.float32), None, 1.0)) for c in centres]
    assert [p[0] for p in predicted] == ["ask_use", "ask_storage"]
    assert all(p[1] > 0.9 for p in predicted)


def test_a_clause_with_one_encoders_block_is_read_by_a_classifier_fitted_on_both():
    """A Chinese clause has no English encoder block: the multilingual block alone decides."""
    rng = np.random.default_rng(3)
    shared = rng.normal(size=(2, 16))
    english = rng.normal(size=(2, 8))
    examples, labels = [], []
    for label in (0, 1):
        for _ in range(15):
            noise = 0.05 * rng.normal(size=16)
            examples.append(part_features(english[label], shared[label] + noise, 3.0))
            examples.append(part_features(None, shared[label] + noise, 3.0))
            labels += [f"ask_{label}"] * 2
    model = fit_part_classifier(examples, labels)
    assert reads(model, ENGLISH_BLOCK) and reads(model, MULTILINGUAL_BLOCK)
    assert [read_part(model, part_features(None, c, 3.0))[0] for c in shared] == ["ask_0", "ask_1"]
    only_english = fit_part_classifier(
        [part_features(e, None, 1.0) for e in english], ["ask_0", "ask_1"]
    )
    assert not reads(only_english, MULTILINGUAL_BLOCK)


def test_gather_scores_every_sentence_and_reads_parts():
    sentences = policy_sentences(POLICY)
    scores = np.linspace(1, 0, len(sentences))
    model = LinearModel(
        ("ask_use", "ask_storage"), ((ENGLISH_BLOCK, 4),), np.eye(2, 4) * 5, np.zeros(2)
    )
    one = gather(scores, "d")
    assert one.scores[0] == 1.0 and len(one.scores) == len(sentences) and one.parts == ()
    clauses = [
        Clause("a b c", part_features(np.array([5, 0, 0, 0]), None, 1.0), scores),
        Clause("d e f", part_features(np.array([0, 5, 0, 0]), None, 1.0), scores[::-1]),
    ]
    two = gather(scores, "d", clauses, model)
    assert [p.intent for p in two.parts] == ["ask_use", "ask_storage"]
    assert two.parts[1].scores[-1] == 1.0
    assert gather(scores, "d", clauses, None).parts == ()
    assert gather(scores, "d", clauses[:1], model).parts == ()


# ------------------------------------------------------------------ Chinese


@pytest.mark.parametrize(
    "text,parts",
    [
        ("你们和谁共享我的数据，数据存在哪里？", ["你们和谁共享我的数据", "数据存在哪里"]),
        ("数据保存多久？还有你们会卖给第三方吗", ["数据保存多久", "你们会卖给第三方吗"]),
        ("你们会把我的数据卖给别人吗？另外怎么删除", ["你们会把我的数据卖给别人吗", "怎么删除"]),
        ("我想知道数据存在哪里，以及保存多久", ["我想知道数据存在哪里", "保存多久"]),
        ("要我的手机号干嘛？会给别的公司吗", ["要我的手机号干嘛", "会给别的公司吗"]),
        # one question: the pieces without a question of their own join the next one
        ("请问，你们收集哪些数据？", ["请问，你们收集哪些数据？"]),
        ("你们收集姓名以及电话吗", ["你们收集姓名以及电话吗"]),
        ("我想注销账号", ["我想注销账号"]),
        # a part too short to be a question of its own
        ("存哪里？谁能看？", ["存哪里？谁能看？"]),
    ],
)
def test_a_chinese_message_splits_where_a_second_question_starts(text, parts):
    assert split_clauses(text) == parts


def test_every_policy_sentence_is_read_in_its_reference_translation():
    from bot.nlu.evidence import translated_texts

    sentences = policy_sentences(POLICY)
    translated = translated_texts(sentences, "zh")
    assert len(translated) == len(sentences)
    untranslated = [s.text for s, t in zip(sentences, translated, strict=True) if t == s.text]
    assert untranslated == []


@pytest.mark.parametrize(
    "question,section",
    [
        ("你们会把我的个人信息卖给别人吗", "sharing"),
        ("我的数据会传到国外吗", "storage"),
        ("隐私政策从什么时候开始生效", "overview"),
        ("孩子可以用你们的产品吗", "minors"),
    ],
)
def test_chinese_evidence_finds_the_section_that_answers(question, section):
    from bot.nlu.evidence import translation_space

    sentences = policy_sentences(POLICY)
    space = translation_space(sentences, "zh")
    found = gather(space.similarities(question), digest(sentences))
    assert len(found.scores) == len(sentences)
    assert sentences[int(np.argmax(found.scores))].section_id == section
    assert by_section(POLICY, found.scores, found.digest) is not None


def test_thresholds_per_language(tmp_path):
    from bot.nlu.evidence import thresholds

    path = tmp_path / "thresholds.yml"
    path.write_text(
        "thresholds: {direct: 0.6, closest: 0.45, evidence: 0.34}\n"
        "zh:\n  thresholds: {direct: 0.55}\n",
        encoding="utf-8",
    )
    assert thresholds("en", path) == {"direct": 0.6, "closest": 0.45, "evidence": 0.34}
    # Chinese: its own values over English's, but never English's evidence scale
    assert thresholds("zh", path) == {"direct": 0.55, "closest": 0.45, "evidence": 0.0}
    assert thresholds(None, path) == thresholds("en", path)
    bare = tmp_path / "bare.yml"
    bare.write_text("thresholds: {direct: 0.6, evidence: 0.34}\n", encoding="utf-8")
    assert thresholds("zh", bare) == {"direct": 0.6, "evidence": 0.0}
    assert thresholds("en", tmp_path / "missing.yml") == {}
