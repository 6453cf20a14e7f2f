"""The whole assistant, running: Rasa with the trained model, the action server and the web app.

Slow (the stack takes 30-60 s to start) but real: these are the answers a visitor gets.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from bot.core.paths import ROOT
from bot.devtools.eval import LiveAssistant, accuracy, evaluate, load_items, report
from bot.policy.document import load_policy

pytestmark = pytest.mark.live

POLICY = load_policy()
DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev_questions.yml"

# One question per section, in words of our own (not in the training data).
SECTION_QUESTIONS = {
    "overview": "what is the purpose of this privacy document",
    "definitions": "what does the term personal information mean here",
    "collection": "which details of mine do you gather",
    "use": "what do you do with the information I give you",
    "sharing": "is my info passed on to third parties",
    "security": "how do you protect my data from unauthorised access",
    "storage": "are my data kept inside china",
    "communications": "will I receive promotional emails from you",
    "minors": "can children under 14 use VideoPro",
    "liability": "are you responsible if a virus leaks my data",
    "contact": "what is the address of your legal department",
    "updates": "how will you tell me when the policy is updated",
}


@pytest.fixture(scope="module")
def assistant(live_stack):
    with httpx.Client(timeout=60) as client:
        yield LiveAssistant(live_stack.settings, client)


@pytest.mark.parametrize("section_id", list(SECTION_QUESTIONS))
def test_each_section_is_answered_over_rest_with_its_heading(assistant, section_id):
    seen = assistant.ask(SECTION_QUESTIONS[section_id])
    assert POLICY.section(section_id).heading in seen.reply, seen
    assert seen.intent == f"ask_{section_id}"


def test_tell_me_more_shows_the_whole_section(assistant):
    sender = f"live-{uuid.uuid4().hex}"
    assistant.ask("do you encrypt credit card numbers", sender=sender)
    seen = assistant.ask("show me the whole section", sender=sender)
    for paragraph in POLICY.section("security").paragraphs:
        assert paragraph in seen.reply


def test_a_silent_topic_says_so_and_offers_a_person(assistant):
    seen = assistant.ask("do you hand my data to the police")
    assert "the policy does not" in seen.reply
    assert POLICY.postal_contact.address in seen.reply


def test_not_about_privacy_is_out_of_scope(assistant):
    seen = assistant.ask("what's a good recipe for dumplings")
    assert seen.intent in ("out_of_scope", "nlu_fallback")
    assert not [s for s in POLICY.sections if s.heading in seen.reply]


def test_the_http_api_needs_the_token(live_stack):
    url = f"{live_stack.settings.rasa_url}/conversations/someone/tracker"
    assert httpx.get(url, timeout=10).status_code == 401
    assert httpx.get(url, params={"token": "wrong"}, timeout=10).status_code == 401


def test_action_server_health(live_stack):
    response = httpx.get(f"{live_stack.settings.action_server_url}/health", timeout=10)
    assert response.status_code == 200


def test_the_web_app_relays_a_question_end_to_end(live_stack):
    response = httpx.post(
        f"{live_stack.settings.web_url}/api/chat",
        timeout=60,
        json={"message": "do you sell my data"},
    )
    assert response.status_code == 200
    texts = " ".join(m.get("text", "") for m in response.json()["messages"])
    assert POLICY.section("sharing").heading in texts


def test_development_evaluation_reaches_95_percent(assistant):
    if not DEV_QUESTIONS.exists():
        pytest.skip(f"{DEV_QUESTIONS} is not beside this checkout")
    outcomes = evaluate(load_items(DEV_QUESTIONS), assistant, POLICY)
    print(report(outcomes))
    assert accuracy(outcomes) >= 0.95, report(outcomes)


PRIVACYQA = ROOT.parent / "shared" / "eval" / "privacyqa_dev.yml"


def test_real_user_questions_reach_90_percent_with_at_most_3_percent_confidently_wrong(assistant):
    """Questions people wrote about app privacy (PrivacyQA), which nobody here phrased."""
    if not PRIVACYQA.exists():
        pytest.skip(f"{PRIVACYQA} is not beside this checkout")
    outcomes = evaluate(load_items(PRIVACYQA), assistant, POLICY)
    wrong = sum(o.confidently_wrong for o in outcomes) / len(outcomes)
    assert accuracy(outcomes) >= 0.90 and wrong <= 0.03, report(outcomes)


def test_a_question_that_asks_two_things_gets_both_sections(assistant):
    seen = assistant.ask(
        "do you give my details to other companies and in which country are they stored?"
    )
    assert POLICY.section("sharing").heading in seen.reply, seen.reply
    assert POLICY.section("storage").heading in seen.reply, seen.reply


def test_two_part_questions_in_both_languages_get_both_sections_and_no_other(assistant):
    """Our measured two-part questions (docs/pipelines/two_part_questions.yml): most get both
    sections quoted (2026-12-05: 18/20 English, 13/16 Chinese), none a section not asked for."""
    from bot.devtools.parts import load_questions

    others = []
    share = {"en": 3 / 4, "zh": 2 / 3}  # with room for a retrained model's drift
    for language, questions in load_questions().items():
        both = []
        for question in questions:
            reply = assistant.ask(question.text).reply
            cited = {s.id for s in POLICY.sections if s.heading in reply}
            asked = {intent.removeprefix("ask_") for intent in question.intents}
            if cited == asked:
                both.append(question.text)
            if cited - asked:
                others.append((question.text, sorted(cited)))
        assert len(both) >= share[language] * len(questions), (language, len(both), len(questions))
    assert others == []


def test_a_topic_the_policy_is_silent_on_is_named_and_never_quoted(assistant):
    seen = assistant.ask("does videopro need permission to use my microphone?")
    assert "the policy does not say anything about access to your camera and microphone" in (
        seen.reply
    ), seen.reply
    assert not [s for s in POLICY.sections if s.heading in seen.reply]


def test_a_request_asked_as_a_question_starts_that_request_not_the_status_lookup(assistant):
    seen = assistant.ask("is there any way I could have you remove my personal data?")
    assert seen.active_form == "deletion_form", seen
    assert "reference of your request" not in seen.reply.lower()


def test_a_rating_from_the_chat_page_reaches_the_legal_departments_list(live_stack):
    from bot.policy.gaps import GapLog
    from bot.storage.db import make_engine

    web = live_stack.settings.web_url
    visitor = httpx.Client(timeout=60)  # keeps the conversation cookie the app issues
    reply = visitor.post(f"{web}/api/chat", json={"message": "is my data protected"}).json()
    [answer] = [m["answer"] for m in reply["messages"] if "answer" in m]
    engine = make_engine()
    before = GapLog(engine).report().total
    rated = visitor.post(f"{web}/api/feedback", json={"answer": answer, "helpful": False})
    visitor.close()
    assert rated.status_code == 200, rated.text
    assert GapLog(engine).report().total == before + 1
    with httpx.Client(timeout=30) as other:  # another visitor, with a conversation of their own
        other.get(f"{web}/")
        forged = other.post(
            f"{web}/api/feedback",
            json={"sender": "an-id-the-page-made", "answer": answer, "helpful": False},
        )
    assert forged.status_code == 400
    engine.dispose()
