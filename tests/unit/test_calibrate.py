"""Thresholds are fitted on out-of-fold predictions of our own examples."""

import json

import pytest

from bot.conversation.routing import load_thresholds
from bot.devtools.calibrate import Prediction, fit, load_predictions, lowest_meeting, main, tradeoff


def predictions():
    out = []
    # Confident predictions are right; the unsure ones are right half of the time.
    for _ in range(40):
        out.append(Prediction("ask_use", "ask_use", 0.9))
    for i in range(10):
        out.append(Prediction("ask_use" if i % 2 else "ask_storage", "ask_use", 0.42))
    for _ in range(10):
        out.append(Prediction("ask_not_covered", "ask_security", 0.25))
    out.append(Prediction("greet", "greet", 0.2))  # not a quoting prediction: ignored
    return out


def test_the_tradeoff_counts_only_predictions_that_would_quote():
    rows = {r.threshold: r for r in tradeoff(predictions())}
    assert rows[0.2].answered == 1.0 and rows[0.2].wrong == 15
    assert rows[0.5].answered == 40 / 60 and rows[0.5].precision == 1.0
    assert rows[0.3].precision == 45 / 50


def test_direct_needs_its_precision_at_every_higher_threshold_too():
    rows = tradeoff(predictions())
    assert lowest_meeting(rows, 0.95) == 0.45
    assert lowest_meeting(rows, 0.85) == 0.3


def test_closest_stops_where_the_band_below_direct_gets_too_unreliable():
    thresholds, _ = fit(predictions(), 0.95, 0.5)
    assert (thresholds.direct, thresholds.closest) == (0.45, 0.3)  # the 0.42s are right half
    thresholds, _ = fit(predictions(), 0.95, 0.6)
    assert (thresholds.direct, thresholds.closest) == (0.45, 0.45)  # none is good enough


def test_main_reads_the_crossval_folder_and_writes_the_thresholds(tmp_path, capsys):
    def dump(name, items):
        (tmp_path / name).write_text(
            json.dumps(
                [
                    {
                        "text": "t",
                        "intent": p.target,
                        "intent_prediction": {"name": p.predicted, "confidence": p.confidence},
                    }
                    for p in items
                ]
            )
        )

    items = predictions()
    dump("intent_successes.json", [p for p in items if p.right])
    dump("intent_errors.json", [p for p in items if not p.right])
    assert len(load_predictions(tmp_path)) == len(items)
    out = tmp_path / "thresholds.yml"
    assert main([str(tmp_path), "--out", str(out), "--evidence-share", "0"]) == 0
    assert load_thresholds(out).direct == 0.45
    assert "<- direct" in capsys.readouterr().out
    assert main([str(tmp_path / "empty")]) == 2


# Encodes every section question of our training data (1,600-odd examples, ~23 s on 2 cores):
# `make test` runs it, `make unit` does not. With the cached encoder the second floor is free.
@pytest.mark.slow
@pytest.mark.usefixtures("cached_encoder")
def test_the_evidence_floor_is_what_most_of_our_own_section_questions_reach():
    from bot.devtools.calibrate import evidence_floor

    assert 0.1 < evidence_floor(0.9) < evidence_floor(0.5) < 0.9


def test_each_language_is_fitted_on_its_own_messages(tmp_path):
    from bot.nlu.evidence import thresholds

    english = [Prediction("ask_use", "ask_use", 0.9)] * 30 + [
        Prediction("ask_storage", "ask_use", 0.55)
    ] * 2
    # Chinese: right only from 0.7 on
    chinese = [Prediction("ask_use", "ask_use", 0.8)] * 30 + [
        Prediction("ask_storage", "ask_use", 0.62)
    ] * 10
    rows = [
        {
            "text": "where is it",
            "intent": p.target,
            "intent_prediction": {"name": p.predicted, "confidence": p.confidence},
        }
        for p in english
    ] + [
        {
            "text": "数据存在哪里",
            "intent": p.target,
            "intent_prediction": {"name": p.predicted, "confidence": p.confidence},
        }
        for p in chinese
    ]
    (tmp_path / "intent_successes.json").write_text(json.dumps(rows), encoding="utf-8")
    assert len(load_predictions(tmp_path, "zh")) == 40
    assert len(load_predictions(tmp_path, "en")) == 32
    out = tmp_path / "thresholds.yml"
    assert main([str(tmp_path), "--out", str(out), "--evidence-share", "0"]) == 0
    assert thresholds("en", out)["direct"] == 0.6
    assert thresholds("zh", out)["direct"] == 0.65
    assert load_thresholds(out).direct == 0.6  # the router's English reading is unchanged
