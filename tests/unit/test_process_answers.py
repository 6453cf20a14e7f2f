"""How requests are handled here: which fact a question asks for
(bot.conversation.process_questions), and the fact said from the settings, the registry and the
code that does the work (bot.conversation.process_answers), never as the policy's text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.conversation import process_answers, process_questions
from bot.conversation.process_answers import answer, instead_of_silence, reply_to
from bot.conversation.process_questions import about_requests, choose
from bot.conversation.routing import (
    CLOSEST,
    NOT_COVERED,
    Decision,
    Reading,
    is_routed,
    is_section_intent,
)
from bot.core.language import LANGUAGES
from bot.core.lexicon import lexicon
from bot.core.texts import catalogue, text
from bot.devtools.eval import NOT_COVERED_MARKERS
from bot.policy.document import load_policy
from bot.requests import deadlines, verification
from bot.requests.registry import KINDS

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday the calendar knows
POLICY = load_policy()

# Questions of our own for each fact, in each language (not training data, not dev sets).
ASKED = {
    "deadline": [
        "how long do you take to act on a correction request",
        "is there a time limit for answering my erasure request",
        "how many business days until my access request is done",
        "更正申请提交以后要等几天",
        "你们处理申请有时限吗",
        "申请删除后多久能办完",
    ],
    "handler": [
        "who handles the requests I make here",
        "which department looks at privacy requests",
        "is a lawyer going to read my request",
        "谁来处理我提交的申请",
        "申请是哪个部门负责的",
        "是法务部在看我的申请吗",
    ],
    "verification": [
        "why did you email me a code",
        "how long is the code valid",
        "how many tries do I have for the verification code",
        "验证码是做什么用的",
        "验证码输错了几次会怎样",
        "你们怎么核实是我本人",
    ],
    "after_verification": [
        "what happens after I verify my address",
        "once I've entered the code what comes next",
        "will I be notified when my request changes status",
        "验证通过以后接下来是什么",
        "输入验证码后会有编号吗",
        "申请状态变化会发邮件通知我吗",
    ],
    "erasure": [
        "what gets erased when my deletion is completed",
        "will this conversation be wiped after my deletion",
        "do you keep any transcript once my data is deleted",
        "删除完成后会清除什么",
        "我和你的聊天记录会被删掉吗",
        "注销以后还会保留哪些记录",
    ],
    "withdrawal": [
        "can I withdraw a request later if I change my mind",
        "what do I say to retract a request",
        "can a withdrawn request be reopened",
        "申请提交后还能撤回吗",
        "撤销申请需要什么",
        "我改主意了还能收回申请吗",
    ],
    "extension": [
        "can you extend the deadline on my request",
        "what if my request is put on hold",
        "could you take longer than the usual time",
        "期限可以延期吗",
        "申请会被搁置吗",
        "你们会不会超过期限才答复",
    ],
    "complaint": [
        "what happens to a complaint I make",
        "I'm unhappy with how my request went, is there a complaint process",
        "can I appeal a decision on my request",
        "投诉以后一般会怎样",
        "对处理结果不满意怎么办",
        "我想了解申诉是怎么回事",
    ],
}


@pytest.mark.parametrize(
    "fact, question", [(fact, q) for fact, questions in ASKED.items() for q in questions]
)
def test_each_fact_is_chosen_from_its_words_in_either_language(fact, question):
    assert choose(question)[:1] == (fact,), process_questions.scores(question)


def test_the_facts_are_the_same_in_the_lexicon_and_in_every_catalogue():
    facts = process_questions.facts()
    assert set(facts) == set(ASKED)
    for language in LANGUAGES:
        assert tuple(lexicon(language).groups("process.cues")) == facts
        keys = catalogue().keys(language)
        for fact in facts:
            for part in ("headline", "text", "policy"):
                assert f"process.fact.{fact}.{part}" in keys, (language, fact, part)
        assert {k.split(".")[2] for k in keys if k.startswith("process.fact.")} == set(facts)


def test_the_lexicon_of_the_process_has_the_same_keys_in_every_language():
    shapes = {
        language: {
            key: type(value)
            for key, value in lexicon(language).entries.items()
            if key.startswith("process.")
        }
        for language in LANGUAGES
    }
    first = shapes[LANGUAGES[0]]
    assert first and all(shape == first for shape in shapes.values())


@pytest.mark.parametrize(
    "question",
    ["", "tell me about requests", "how does all of this work", "申请这件事是怎么运作的"],
)
def test_a_question_that_names_no_fact_gets_the_overview(question):
    assert choose(question) == ()
    said = reply_to(question, "en").text
    for fact in process_questions.facts():
        assert (
            process_answers.fact(fact, "headline", "en", process_answers.filled("en").values)
            in said
        )


def test_a_question_the_cues_of_two_facts_weigh_the_same_gets_both():
    assert choose("how quickly are complaints answered") == ("deadline", "complaint")


def test_a_cue_inside_a_longer_one_counts_only_as_the_longer_one():
    assert choose("what happens after I verify") == ("after_verification",)
    assert choose("验证后会怎样") == ("after_verification",)
    assert choose("how long is the code good for") == ("verification",)


# -- what is said -------------------------------------------------------------------------------


def test_a_deadline_answer_says_15_working_days_and_a_handler_answer_names_the_legal_department():
    assert "15 working days" in reply_to("how long does a deletion take", "en", NOW).text
    assert "15个工作日" in reply_to("删除数据要多久", "zh", NOW).text
    assert "Legal department" in reply_to("who handles privacy requests", "en").text
    assert "法务部" in reply_to("谁负责处理申请", "zh").text


def test_the_overview_has_the_deadline_and_the_handler_too():
    assert (
        "15 working days" in answer((), "en").text and "Legal department" in answer((), "en").text
    )
    assert "15个工作日" in answer((), "zh").text and "法务部" in answer((), "zh").text


def test_the_deadline_follows_the_setting_and_the_calendar(set_env):
    set_env(REQUEST_DUE_WORKING_DAYS="10", REQUEST_JURISDICTION="prc")
    said = answer(("deadline",), "en", NOW).text
    assert "10 working days" in said and "15 working days" not in said
    due = deadlines.due_date(NOW, 10).due.astimezone(ZoneInfo(deadlines.jurisdiction().zone))
    assert text("format.date", "en", date=due) in said
    assert "10个工作日" in answer(("deadline",), "zh", NOW).text


def test_a_jurisdiction_that_counts_months_says_a_month(set_env):
    set_env(REQUEST_JURISDICTION="gdpr")
    said = answer(("deadline", "extension"), "en", NOW).text
    assert "one calendar month" in said and "2 calendar months" in said
    assert "working days" not in said.split("\n\n")[1]


def test_a_year_the_calendar_does_not_know_is_said_to_be_counted_monday_to_friday():
    later = datetime(2045, 3, 1, tzinfo=timezone.utc)
    assert "2045" in answer(("deadline",), "en", later).text.split("\n\n")[2]
    assert "2045" not in answer(("deadline",), "en", NOW).text


def test_the_code_facts_come_from_the_code_that_sends_it(monkeypatch):
    said = answer(("verification",), "en").text
    assert f"{verification.CODE_DIGITS}-digit" in said
    assert "15 minutes" in said and "5 tries" in said
    monkeypatch.setattr(verification, "CODE_TTL", timedelta(minutes=20))
    monkeypatch.setattr(verification, "MAX_ATTEMPTS", 3)
    said = answer(("verification",), "zh").text
    assert "20分钟" in said and "3次" in said


def test_the_kinds_are_named_from_the_registry():
    said = answer(("after_verification",), "en").text
    assert all(kind.prefix in said for kind in KINDS)
    at_once = [kind for kind in KINDS if not kind.verify]
    note = answer(("verification",), "en").text.split("\n\n")[2]
    assert at_once and all(kind.wording("name", "en") in note for kind in at_once)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("chosen", [(fact,) for fact in ASKED] + [()])
def test_every_answer_is_framed_as_our_practice_and_says_the_policy_is_silent(language, chosen):
    said = answer(chosen, language, NOW).text
    blocks = said.split("\n\n")
    assert blocks[0] == text("process.heading", language)
    assert any(marker in blocks[-1].lower() for marker in NOT_COVERED_MARKERS)


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_answer_quotes_the_policy_or_cites_a_section(language):
    """Nothing of the policy but its postal contact, which the facts give as an address."""
    contact = POLICY.postal_contact
    address = {_words(contact.addressee), _words(f"Address: {contact.address}")}
    for chosen in [(fact,) for fact in ASKED] + [()]:
        said = _words(answer(chosen, language, NOW).text)
        for section in POLICY.sections:
            assert section.heading not in said
            for sentence in section.sentences:
                if _words(sentence.text) not in address:
                    assert _words(sentence.text) not in said


# What the policy's text would have to contain for each plain line to be untrue.
NOT_IN_THE_POLICY = {
    "deadline": ["working day", "deadline", "within 15", "days"],
    "handler": ["handle", "review", "requests"],
    "verification": ["verif", "code", "one-time"],
    "after_verification": ["reference", "status", "verif"],
    "erasure": ["erase", "conversation", "transcript"],
    "withdrawal": ["withdraw"],
    "extension": ["extend", "extension", "hold", "pause"],
    "complaint": ["complain", "complaint"],
}


@pytest.mark.parametrize("fact, words", NOT_IN_THE_POLICY.items())
def test_each_plain_line_on_the_policy_is_true(fact, words):
    """The policy is silent on each fact: none of the words that would speak of it occur."""
    whole = " ".join(section.body for section in POLICY.sections).lower()
    assert [word for word in words if word in whole] == []


# -- the policy router's silence ----------------------------------------------------------------


def test_a_request_question_the_policy_is_silent_on_gets_the_fact_instead():
    silent = Decision(NOT_COVERED)
    reply = instead_of_silence(silent, "申请删除以后要多久才能删干净", "zh")
    assert reply is not None and "15个工作日" in reply.text
    reply = instead_of_silence(silent, "how long until you answer my deletion request", "en")
    assert reply is not None and "15 working days" in reply.text


@pytest.mark.parametrize(
    "question",
    [
        "how long do you keep my data",
        "你们会保存我的信息多长时间",
        "after I quit, how long until my data is erased automatically",
        "can I complain to the regulator about you",
    ],
)
def test_the_policy_s_silence_stands_where_no_request_is_spoken_of(question):
    assert not about_requests(question)
    assert instead_of_silence(Decision(NOT_COVERED), question, "en") is None


def test_only_the_policy_s_silence_gives_way():
    question = "how long until you answer my deletion request"
    assert instead_of_silence(Decision(CLOSEST, ("collection",)), question, "en") is None
    assert instead_of_silence(Decision(NOT_COVERED), "tell me about my request", "en") is None


def test_the_process_intent_is_neither_routed_nor_a_section():
    assert not is_routed("ask_process") and not is_section_intent("ask_process")
    assert is_routed("ask_contact") and is_section_intent("ask_contact")
    reading = Reading("x", (("ask_process", 0.6), ("ask_contact", 0.35)))
    assert reading.best_section() == ("contact", 0.35)
    assert reading.policy_mass == pytest.approx(0.35)
