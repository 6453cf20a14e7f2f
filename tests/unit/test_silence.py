"""Silence that is measured: the cues' findings as features, the classifier's file, the router's
verdict from its probability, and the measurement's own arithmetic."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.conversation.routing import (
    CLOSEST,
    DIRECT,
    NOT_COVERED,
    NOT_POLICY,
    Reading,
    Thresholds,
    decide,
    load_thresholds,
    silence_verdict,
)
from bot.core.language import registry
from bot.devtools.silence import Question, Row, Tally, lowest_meeting, tradeoff
from bot.devtools.silence_data import OWN_EXAMPLES, labels_of_intents, own_questions
from bot.nlu import silence
from bot.nlu.evidence import Evidence, gather
from bot.nlu.examples import load_examples
from bot.policy.coverage import CUE_SIGNALS, CueSignals, load_coverage
from bot.policy.document import load_policy
from tests.support.near_copies import eval_questions, near_copy

POLICY = load_policy()
COVERAGE = load_coverage()
THRESHOLDS = Thresholds(direct=0.5, closest=0.3, policy_mass=0.5, out_of_scope=0.5, silence=0.7)
SHARED_EVAL = Path(__file__).resolve().parents[2].parent / "shared" / "eval"


# ------------------------------------------------------------------ what the cues find


def test_the_cues_findings_name_the_verdict_they_would_give_and_what_they_saw():
    assert COVERAGE.signals("do you track my location") == CueSignals(silent=True, cued=True)
    partly = COVERAGE.signals("do you show me personalised ads")
    assert partly.partly and partly.cued and not partly.silent
    # A camera cue without a privacy word: cued, not a verdict.
    support = COVERAGE.signals("my camera doesn't work")
    assert support.cued and not support.required and not support.silent
    assert COVERAGE.signals("can the app access my camera").required
    # "the location of your servers" is storage: the `unless` word is seen.
    servers = COVERAGE.signals("what is the location of your servers")
    assert servers.cued and servers.excluded and not servers.silent
    assert COVERAGE.signals("who do you share my data with") == CueSignals()


def test_chinese_cues_are_found_too():
    found = COVERAGE.signals("你们会获取我的位置信息吗")
    assert found.silent and found.cued


# ------------------------------------------------------------------ the model and its file


def small_model(bias=0.0, thresholds=None):
    weights = np.zeros(sum(silence.WIDTHS.values()))
    weights[-len(CUE_SIGNALS)] = 4.0  # a silent topic's cue
    return silence.SilenceModel(weights, bias, 10.0, thresholds or {"en": 0.7})


def test_the_probability_reads_the_cue_features_and_the_vectors():
    model = small_model(bias=-2.0)
    shared = np.zeros(silence.WIDTHS[silence.MULTILINGUAL])
    assert model.probability(None, shared, CueSignals()) == pytest.approx(1 / (1 + np.exp(2)))
    assert model.probability(None, shared, CueSignals(silent=True)) == pytest.approx(
        1 / (1 + np.exp(-2))
    )
    row = silence.features(np.ones(384), shared, CueSignals(excluded=True), 10.0)
    assert row.shape == (sum(silence.WIDTHS.values()),)
    assert row[:384].tolist() == [10.0] * 384 and row[-1] == 1.0


def test_the_model_survives_its_file_and_refuses_a_file_of_another_shape(tmp_path):
    model = small_model(bias=-1.23456789, thresholds={"en": 0.7, "zh": 0.75})
    path = tmp_path / "silence.yml"
    path.write_text(
        yaml.safe_dump({"thresholds": dict(model.thresholds), "model": model.to_data()}),
        encoding="utf-8",
    )
    loaded = silence.load_silence_model(path)
    assert loaded is not None
    assert loaded.bias == pytest.approx(-1.23457) and loaded.threshold("zh") == 0.75
    assert loaded.threshold("xx") is None
    assert silence.load_silence_model(tmp_path / "missing.yml") is None
    broken = model.to_data()
    broken["weights"]["cues"] = [1.0]
    with pytest.raises(ValueError, match="cues weights"):
        silence.SilenceModel.from_data(broken, {})
    renamed = {**model.to_data(), "cues": ["silent"]}
    with pytest.raises(ValueError, match="CUE_SIGNALS"):
        silence.SilenceModel.from_data(renamed, {})


def test_the_shipped_model_has_a_threshold_for_every_language_and_reads_questions():
    model = silence.load_silence_model()
    assert model is not None, "data/calibration/silence.yml: run `python -m bot silence --write`"
    for code in registry().codes:
        threshold = model.threshold(code)
        assert threshold is not None and 0.0 < threshold < 1.0
    # The file keeps what the measurement chose, beside its evidence.
    data = yaml.safe_load(silence.SILENCE_FILE.read_text(encoding="utf-8"))
    for code in registry().codes:
        rows = {r["threshold"]: r for r in data["tradeoff"][code]}
        assert rows[model.threshold(code)]["precision"] >= data["fitted"]["precision"]


# ------------------------------------------------------------------ the evidence and the router


def test_the_evidence_carries_the_silence_probability_rounded():
    found = gather(np.array([0.1234]), "d", silence=0.123456)
    assert found.silence == 0.123
    assert Evidence.from_dict(found.to_dict()) == found
    assert Evidence.from_dict({"digest": "d", "scores": [0.1]}).silence is None


def read(text, silence_probability, *ranking):
    evidence = Evidence("d", (), (), silence_probability)
    return Reading(text, tuple(ranking), evidence)


def route(reading, thresholds=THRESHOLDS):
    return decide(reading, COVERAGE, thresholds, POLICY.section_ids)


def test_the_verdict_is_the_probability_against_the_languages_threshold():
    assert silence_verdict(read("x", 0.7), THRESHOLDS) is True
    assert silence_verdict(read("x", 0.69), THRESHOLDS) is False
    assert silence_verdict(read("x", None), THRESHOLDS) is None
    assert silence_verdict(read("x", 0.9), Thresholds()) is None


def test_silent_by_the_classifier_names_the_topic_the_map_recognises():
    decision = route(read("do you track my location", 0.9, ("ask_collection", 0.9)))
    assert decision.kind == NOT_COVERED and decision.topic.id == "location"


def test_silent_by_the_classifier_without_a_cue_is_not_covered_unnamed():
    decision = route(read("what happens to my data in a takeover", 0.8, ("ask_sharing", 0.9)))
    assert decision.kind == NOT_COVERED and decision.topic is None


def test_silent_by_the_classifier_is_no_reason_to_answer_small_talk():
    decision = route(read("what's the weather", 0.95, ("out_of_scope", 0.9)))
    assert decision.kind == NOT_POLICY


def test_a_silent_topics_cue_the_classifier_overrules_is_quoted_as_the_closest():
    # "sign up" is the account-registration cue; the minors section answers this.
    decision = route(read("can an 11 year old sign up", 0.05, ("ask_minors", 0.95)))
    assert (decision.kind, decision.sections, decision.topic) == (CLOSEST, ("minors",), None)
    # The cue words alone (no classifier) still call it silent.
    today = route(read("can an 11 year old sign up", None, ("ask_minors", 0.95)))
    assert today.kind == NOT_COVERED and today.topic.id == "account_registration"


def test_addressed_by_the_classifier_the_not_covered_intent_does_not_outweigh_a_section():
    reading = read("who sees my stuff", 0.1, ("ask_not_covered", 0.4), ("ask_sharing", 0.55))
    assert (route(reading).kind, route(reading).sections) == (DIRECT, ("sharing",))
    without = read("who sees my stuff", None, ("ask_not_covered", 0.4), ("ask_sharing", 0.55))
    assert route(without).kind == DIRECT  # 0.55 > 0.4: as before
    weaker = read("who sees my stuff", None, ("ask_not_covered", 0.6), ("ask_sharing", 0.35))
    assert route(weaker).kind == NOT_COVERED
    overruled = route(
        read("who sees my stuff", 0.1, ("ask_not_covered", 0.6), ("ask_sharing", 0.35))
    )
    assert (overruled.kind, overruled.sections) == (CLOSEST, ("sharing",))


def test_a_partly_covered_topic_is_the_closest_the_policy_comes_either_way():
    for probability in (0.05, 0.95):
        decision = route(read("do you show me personalised ads", probability, ("ask_sharing", 0.9)))
        assert decision.kind == CLOSEST and decision.topic.id == "targeted_advertising"


def test_the_silence_threshold_is_read_from_the_file_beside_the_thresholds(tmp_path):
    thresholds = tmp_path / "thresholds.yml"
    thresholds.write_text("thresholds: {direct: 0.6}\n", encoding="utf-8")
    assert load_thresholds(thresholds).silence is None
    (tmp_path / "silence.yml").write_text(
        yaml.safe_dump({"thresholds": {"en": 0.7}, "model": small_model().to_data()}),
        encoding="utf-8",
    )
    load_thresholds.cache_clear()
    silence.load_silence_model.cache_clear()
    try:
        assert load_thresholds(thresholds).silence == 0.7
        assert load_thresholds(thresholds, language="zh").silence is None
    finally:
        load_thresholds.cache_clear()
        silence.load_silence_model.cache_clear()


# ------------------------------------------------------------------ the measurement


def question(label, probability):
    q = Question("q", "en", CueSignals(), None, np.zeros(512), label)
    q.silence = probability
    return q


def test_the_threshold_is_the_lowest_from_which_the_precision_holds():
    questions = [question("silent", p) for p in (0.95, 0.85, 0.75, 0.35)] + [
        question("addressed", p) for p in (0.72, 0.4, 0.1)
    ]
    rows = {r.threshold: r for r in tradeoff(questions)}
    assert rows[0.75] == Row(0.75, 3, 1.0, 0.75, 0, 1)
    assert rows[0.7].precision == 0.75 and rows[0.7].called_silent == 1
    assert lowest_meeting(tradeoff(questions), 0.9) == 0.75
    # Precision that dips again higher up does not count.
    assert lowest_meeting([Row(0.5, 2, 1.0, 1, 0, 0), Row(0.6, 1, 0.5, 1, 1, 0)], 0.9) == 0.6


def test_a_tally_counts_the_two_errors_and_leaves_the_hedged_replies_apart():
    from bot.conversation.routing import Decision

    tally = Tally()
    tally.add_reply(question("addressed", 0), Decision(NOT_COVERED))
    tally.add_reply(question("addressed", 0), Decision(CLOSEST, ("use",)))
    tally.add_reply(question("silent", 0), Decision(DIRECT, ("use",)))
    tally.add_reply(question("silent", 0), None)
    tally.add_verdict(question("silent", 0), silent=True)
    assert tally.as_dict() == {
        "addressed": 2,
        "addressed_called_silent": 1,
        "silent": 3,
        "silent_answered": 1,
        "closest": 1,
        "not_routed": 1,
    }


# ------------------------------------------------------------------ our own labelled questions


def test_only_the_policys_sections_and_not_covered_label_a_question():
    labels = labels_of_intents()
    assert labels["ask_not_covered"] == "silent"
    assert {labels[f"ask_{s}"] for s in POLICY.section_ids} == {"addressed"}
    # An intent about this service's own facts, or a request, is not a policy question.
    assert "ask_process" not in labels and "request_deletion" not in labels


def test_the_silence_examples_have_both_kinds_in_every_language():
    found = own_questions()
    for code in registry().codes:
        for label in ("addressed", "silent"):
            assert sum(q.language == code and q.label == label for q in found) >= 30, (code, label)
    texts = [q.text for q in found]
    assert len(set(texts)) == len(texts)


def test_the_silence_examples_are_neither_training_data_nor_evaluation_questions():
    """Written apart: a copy of an NLU example would count twice, a copy of an evaluation
    question would stop it measuring."""
    ours = [q.text for q in own_questions()]
    others = [text for _, text in load_examples()]
    measured = sorted(SHARED_EVAL.glob("*.yml")) + sorted(
        (Path(__file__).resolve().parents[2] / "eval").glob("*.yml")
    )
    for path in measured:
        others += eval_questions(path)
    offenders = [(a, b) for a in ours for b in others if near_copy(a, b)]
    assert offenders == []
    assert OWN_EXAMPLES.exists()
