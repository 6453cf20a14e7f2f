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
