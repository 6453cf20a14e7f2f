"""A message that only asks how long something takes is read as a question, not a request: the
question of how long a request takes here (ask_process, the deadline the assistant gives)."""

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.question_kind import asks_how_long_only
from bot.rasa.components import HowLongIsAQuestion


@pytest.mark.parametrize(
    "text",
    [
        "how long after I close my account is my data erased?",
        "how soon is my information removed once I cancel",
        "How many days until my details are gone after deletion",
        "注销账号后资料要多久才会清掉",
        "请问删除账号以后多长时间生效",  # 请问 is "may I ask", not "please"
        "账号冻结几天后数据会被清理",
    ],
)
def test_a_question_about_how_long(text):
    assert asks_how_long_only(text)


@pytest.mark.parametrize(
    "text",
    [
        "I want to delete my account, how long will it take?",
        "please erase my data, how soon can you do it",
        "我要注销账号，多久能办好",
        "请删除我的账号，大概多长时间",
        "帮我冻结账号，几天能生效",
        "delete my account",
        "注销账号",
        "when do you delete data",  # no "how long": left to the classifier
    ],
)
def test_a_request_or_no_question_about_time(text):
    assert not asks_how_long_only(text)


def message(text, intent, ranking):
    return Message(
        data={TEXT: text, INTENT: {"name": intent, "confidence": 0.9}, "intent_ranking": ranking}
    )


def component():
    return HowLongIsAQuestion.create(
        HowLongIsAQuestion.get_default_config(),
        None,
        None,
        ExecutionContext(GraphSchema({}), "test"),
    )


def test_a_request_read_into_a_how_long_question_becomes_the_process_question():
    ranking = [
        {"name": "request_deletion", "confidence": 0.9},
        {"name": "ask_process", "confidence": 0.05},
        {"name": "ask_not_covered", "confidence": 0.03},
    ]
    asked = message("注销账号以后，资料多久会删除干净？", "request_deletion", ranking)
    wanted = message("我要注销账号，多久能办好", "request_deletion", ranking)
    status = message(
        "how long until my request is handled",
        "check_status",
        [{"name": "check_status", "confidence": 0.9}],
    )
    component().process([asked, wanted, status])
    assert asked.get(INTENT) == {"name": "ask_process", "confidence": 0.9}
    assert [r["name"] for r in asked.get("intent_ranking")] == [
        "ask_process",
        "request_deletion",
        "ask_not_covered",
    ]
    assert wanted.get(INTENT)["name"] == "request_deletion"  # asks for it too: still the request
    assert status.get(INTENT)["name"] == "check_status"  # not a request kind: untouched
