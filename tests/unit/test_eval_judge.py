"""How the evaluation judges a reply: the rules of ../shared/eval/dev_questions.yml."""

import httpx
import pytest

from bot.core.settings import load_settings
from bot.devtools.eval import (
    LiveAssistant,
    Observation,
    accuracy,
    category_of,
    evaluate,
    form_of,
    judge,
    load_items,
    report,
)
from bot.policy.document import load_policy

POLICY = load_policy()
SECURITY = "The policy section \u201cSecurity of your personal information\u201d says: ..."


@pytest.mark.parametrize(
    "expect,seen,passed",
    [
        ("section:security", Observation(SECURITY, "ask_security", None), True),
        ("section:storage", Observation(SECURITY, "ask_security", None), False),
        (
            "section:communications|intent:request_unsubscribe",
            Observation("Sure.", "request_unsubscribe", None),
            True,
        ),
        ("intent:request_deletion", Observation("...", "greet", "deletion_form"), True),
        ("intent:request_deletion", Observation("...", "request_access", None), False),
        (
            "not_covered",
            Observation("I'm sorry: the policy does not say anything", "ask_not_covered", None),
            True,
        ),
        ("not_covered", Observation("The policy says nothing", "ask_not_covered", None), False),
        (
            "not_covered",
            Observation("抱歉，隐私政策没有提到人脸识别。", "ask_not_covered", None),
            True,
        ),
        ("not_covered", Observation("隐私政策未提及人脸识别。", "ask_not_covered", None), False),
        (
            "out_of_scope",
            Observation("Sorry, I can only help with privacy", "out_of_scope", None),
            True,
        ),
        ("out_of_scope", Observation("Sorry", "nlu_fallback", None), True),
        ("out_of_scope", Observation(SECURITY, "out_of_scope", None), False),
        ("out_of_scope", Observation("Sorry", "ask_security", None), False),
    ],
)
def test_judge(expect, seen, passed):
    assert judge(POLICY, expect, seen) is passed


def test_helpers():
    assert category_of("section:communications|intent:request_unsubscribe") == "section"
    assert category_of("not_covered") == "not_covered"
    assert form_of("request_deletion") == "deletion_form"
    assert form_of("request_unsubscribe") == "unsubscribe_form"
    assert form_of("check_status") is None  # the registry's request intents only


def test_unknown_expectation_is_an_error():
    with pytest.raises(ValueError):
        judge(POLICY, "vibes:good", Observation("", None, None))


def test_load_items_rejects_items_without_expectation(tmp_path):
    path = tmp_path / "items.yml"
    path.write_text("- {text: hi}\n")
    with pytest.raises(ValueError):
        load_items(path)


def test_evaluate_talks_to_rest_and_tracker_and_reports_per_category():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/webhooks/rest/webhook":
            return httpx.Response(200, json=[{"text": SECURITY}])
        assert request.url.params["token"] == "t0ken"
        return httpx.Response(
            200, json={"latest_message": {"intent": {"name": "ask_security"}}, "active_loop": {}}
        )

    settings = load_settings()
    settings = type(settings)(
        **{**settings.__dict__, "rasa_url": "http://rasa.test", "rasa_api_token": "t0ken"}
    )
    assistant = LiveAssistant(settings, httpx.Client(transport=httpx.MockTransport(handler)))
    items = [
        {"text": "safe?", "expect": "section:security"},
        {"text": "stored?", "expect": "section:storage"},
    ]
    outcomes = evaluate(items, assistant, POLICY)
    assert [o.passed for o in outcomes] == [True, False]
    assert accuracy(outcomes) == 0.5
    text = report(outcomes)
    assert "overall" in text and "50.0%" in text and "'stored?' expected section:storage" in text


def test_the_report_counts_new_requests_taken_for_a_request_already_made() -> None:
    from bot.devtools.eval import Outcome, new_requests_into_made

    def outcome(expect: str, intent: str, form: str = "") -> Outcome:
        return Outcome("q", expect, "intent", False, "", intent, form or None)

    outcomes = [
        outcome("intent:request_deletion", "withdraw_request", "withdraw_form"),
        outcome("intent:request_access", "ask_not_covered"),
        outcome("intent:request_correction", "nlu_fallback", "status_form"),
        outcome("intent:request_deletion", "request_deletion", "deletion_form"),
        outcome("intent:check_status", "check_status", "status_form"),  # not a new request
        outcome("intent:request_suspension|intent:human_handoff", "withdraw_request"),
    ]
    assert new_requests_into_made(outcomes) == (2, 4)
