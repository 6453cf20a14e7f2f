"""The request flows in Simplified Chinese: what Chinese answers mean, what is said back (in the
conversation's language), the language each request and its e-mails keep, and the migration
that added it (on SQLite and PostgreSQL)."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, inspect, select, text

from actions.forms import (
    ActionAskAccountEmail,
    ActionAskConfirmRequest,
    ActionAskVerificationCode,
    AskDeletionScope,
    ValidateCorrectionForm,
    ValidateDeletionForm,
)
from actions.replies import language_of
from actions.submit import ActionCancelRequest, ActionCheckStatus, SubmitDeletion
from bot.conversation import flows
from bot.conversation.input_guard import is_button_command, prepare, reply_for
from bot.conversation.reading import reader
from bot.core import texts
from bot.core.masking import mask_pii
from bot.core.paths import ROOT
from bot.policy.document import load_policy
from bot.requests import validators
from bot.requests.notifications import status_email
from bot.requests.store import RequestStore
from bot.storage.db import make_engine, transaction, upgrade
from bot.storage.models import OutboxMessage, PrivacyRequest
from bot.support.tickets import Handoffs
from tests.support.databases import drop_postgres_database, postgres_database, sqlite_url
from tests.support.properties import examples

DOMAIN = Domain.load(str(ROOT / "domain.yml")).as_dict()
SENDER = "conversation-zh"


# -- reading Chinese answers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "是",
        "是的",
        "对",
        "好的",
        "好",
        "可以",
        "确认",
        "是的！",
        "好的吧",
        "嗯",
        "確認",
        "可以，提交吧",
        "没问题",
        "对的，没错",
    ],
)
def test_chinese_yes(answer):
    assert flows.read_yes_no(answer, "inform") is True


@pytest.mark.parametrize(
    "answer",
    [
        "不",
        "不是",
        "不要",
        "算了",
        "否",
        "不对",
        "不对，邮箱写错了",
        "取消",
        "停止",
        "退出",
        "不行。",
        "不是这个地址",
    ],
)
def test_chinese_no(answer):
    assert flows.read_yes_no(answer, "inform") is False


@pytest.mark.parametrize("answer", ["停止", "取消", "退出", "算了", "取消！", "stop", "Cancel"])
def test_chinese_and_english_stop(answer):
    assert flows.is_stop(answer)


@pytest.mark.parametrize(
    "answer", ["不是这个邮箱", "停车场的照片", "我想取消订阅的记录", "wang@example.cn"]
)
def test_an_answer_that_mentions_stopping_is_not_a_stop(answer):
    assert not flows.is_stop(answer)


@pytest.mark.parametrize("answer", ["跳过", "不用了", "没有", "无", "不想说", "跳过。"])
def test_chinese_skip(answer):
    assert flows.is_skip(answer)
    assert flows.validate_optional(answer, "zh") == flows.NONE


@pytest.mark.parametrize(
    "answer, scope",
    [
        ("整个账号", "all"),
        ("仅特定数据", "specific"),
        ("我的全部数据", "all"),
        ("全部删掉", "all"),
        ("只删除聊天记录", "specific"),
        ("部分数据", "specific"),
    ],
)
def test_chinese_scope_and_the_chinese_buttons(answer, scope):
    assert flows.read_scope(answer) == scope


def test_every_chinese_button_payload_is_read_as_its_english_twin():
    """A zh button's payload is plain Chinese words: it must mean what the English one does."""
    for slot in ("deletion_scope", "access_scope", "correction_item"):
        english = texts.buttons(f"flow.question.{slot}.buttons")
        chinese = texts.buttons(f"flow.question.{slot}.buttons", "zh")
        read = flows.read_correction_item if slot == "correction_item" else flows.read_scope
        assert [read(b["payload"]) for b in chinese] == [read(b["payload"]) for b in english]
    for key in ("flow.question.request_reason.buttons", "flow.question.correction_note.buttons"):
        assert all(flows.is_skip(b["payload"]) for b in texts.buttons(key, "zh"))
    assert flows.is_skip(texts.button("handoff.skip_button", "zh")["payload"])


@pytest.mark.parametrize(
    "answer, item",
    [
        ("名字拼错了", "name"),
        ("邮箱", "email"),
        ("手机号", "phone"),
        ("微信号", "wechat"),
        ("支付宝", "alipay"),
        ("别的", "other"),
    ],
)
def test_chinese_correction_items(answer, item):
    assert flows.read_correction_item(answer) == item


@pytest.mark.parametrize("answer", ["没收到", "请重新发送", "再发一次验证码"])
def test_chinese_resend(answer):
    assert flows.wants_resend(answer) and not flows.cannot_verify(answer)


@pytest.mark.parametrize("answer", ["我收不到邮件", "这个邮箱已经不用了", "我无法登录邮箱"])
def test_chinese_cannot_verify(answer):
    assert flows.cannot_verify(answer)


@pytest.mark.parametrize(
    "said, role",
    [
        ("我才12岁，想删号", "minor"),
        ("我今年十三岁", "minor"),
        ("我是未成年人", "minor"),
        ("我１５岁", "minor"),
        ("帮我儿子注销账号", "guardian"),
        ("我是她的妈妈", "guardian"),
        ("作为监护人，我要删除孩子的数据", "guardian"),
        ("我25岁", None),
        ("我是学生", None),
    ],
)
def test_chinese_minors_and_guardians(said, role):
    assert flows.requester_role([said]) == role


# -- Chinese input in the validators ---------------------------------------------------------


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("+86 138 0013 8000", "+8613800138000"),
        ("13800138000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("＋８６ １３８ ００１３ ８０００", "+8613800138000"),
        ("１３８－００１３－８０００", "13800138000"),
        ("(010) 6552-9988", "01065529988"),
    ],
)
def test_chinese_phone_formats(typed, stored):
    assert validators.phone(typed, "zh") == stored


@pytest.mark.parametrize("typed", ["12800138000", "+86 128 0013 8000", "+86 1380013800"])
def test_what_is_written_as_a_mainland_mobile_must_be_one(typed):
    with pytest.raises(validators.Invalid) as refused:
        validators.phone(typed, "zh")
    assert "11位" in str(refused.value)


@given(
    st.sampled_from("3456789"),
    st.text("0123456789", min_size=9, max_size=9),
    st.sampled_from(["{}", "+86 {}", "+86-{}", "{}"]),
)
@settings(max_examples=examples(200))
def test_every_mainland_mobile_in_every_format_is_its_digits(second, rest, shape):
    number = f"1{second}{rest}"
    grouped = f"{number[:3]} {number[3:7]} {number[7:]}"
    stored = validators.phone(shape.format(grouped))
    assert stored.lstrip("+").removeprefix("86") == number if "+" in shape else stored == number


@given(st.from_regex(r"[a-z][a-z0-9]{0,10}@[a-z]{1,8}\.(cn|com)", fullmatch=True))
@settings(max_examples=examples(200))
def test_an_address_typed_full_width_is_the_address(address):
    wide = "".join(chr(ord(c) + 0xFEE0) for c in address)
    assert validators.email(wide) == address
    assert validators.email(f"《{address}》。") == address
    assert validators.email(f"我的邮箱是{address}。谢谢") == address
    assert validators.email(f"邮箱：{wide}") == address


def test_two_addresses_in_a_chinese_sentence_are_not_guessed_between():
    with pytest.raises(validators.Invalid):
        validators.email("a@example.cn 或者 b@example.cn", "zh")


def test_full_width_codes_and_references():
    assert validators.verification_code("１２３ ４５６", "zh") == "123456"
    assert validators.reference("ＤＥＬ－７Ｋ３Ｍ９Ｑ", "zh") == "DEL-7K3M9Q"
    assert validators.reference("我的编号是del 7k3m9q。", "zh") == "DEL-7K3M9Q"
    assert validators.reference("编号：ＤＥＬ－７Ｋ３Ｍ９Ｑ", "zh") == "DEL-7K3M9Q"
    with pytest.raises(validators.Invalid):
        validators.reference("DEL-7K3M9Q 还是 COR-7K3M9Q", "zh")  # two: which one?


@pytest.mark.parametrize("name", ["王伟", "欧阳娜娜", "阿卜杜勒·艾尼", "王" * 20, "李 小龙"])
def test_chinese_names(name):
    assert validators.person_name(name, "zh") == name


@pytest.mark.parametrize("name", ["王", "王" * 21, "王伟3", "王伟２", "·王伟"])
def test_chinese_names_refused_in_chinese(name):
    with pytest.raises(validators.Invalid) as refused:
        validators.person_name(name, "zh")
    assert "2到20个汉字" in str(refused.value)


@pytest.mark.parametrize(
    "check, typed",
    [
        (validators.email, "不是地址"),
        (validators.phone, "电话"),
        (validators.wechat_id, "微信"),
        (validators.alipay_account, "支付宝"),
        (validators.verification_code, "一二三"),
        (validators.reference, "编号"),
        (validators.free_text, "  "),
    ],
)
def test_every_refusal_is_said_in_chinese_in_a_chinese_conversation(check, typed):
    with pytest.raises(validators.Invalid) as chinese:
        check(typed, "zh")
    with pytest.raises(validators.Invalid) as english:
        check(typed)
    assert any("\u4e00" <= c <= "\u9fff" for c in str(chinese.value))
    assert str(chinese.value) != str(english.value)


# -- what is said, in Chinese ----------------------------------------------------------------


def test_the_chinese_summary_and_confirmation():
    values = {
        "account_email": "wang@example.cn",
        "deletion_scope": "all",
        "request_reason": flows.NONE,
    }
    prompt = flows.confirmation_prompt("deletion", values, "guardian", "zh")
    assert prompt.startswith("以下是您的申请：")
    assert "账号电子邮件地址：wang@example.cn" in prompt and "整个账号及其全部数据" in prompt
    assert "监护人" in prompt and "6位验证码" in prompt
    assert [b["payload"] for b in flows.confirmation_buttons("zh")] == ["/affirm", "/deny"]


def test_a_chinese_status_answer_writes_the_date_the_chinese_way():
    due = datetime(2026, 12, 21, 9, tzinfo=timezone.utc)
    said = flows.status_reply("DEL-7K3M9Q", "deletion", "in_progress", due, "zh")
    assert said == "申请 DEL-7K3M9Q（删除申请）的状态为：处理中。处理期限为2026年12月21日。"
    parts = [("legal", "done"), ("gone", "failed")]  # the default system, and one no longer listed
    said = flows.status_reply("DEL-7K3M9Q", "deletion", "in_progress", due, "zh", parts)
    assert said.endswith("各部门进展：\n- 法务部：已完成\n- gone：失败")
    done = flows.status_reply("DEL-7K3M9Q", "deletion", "completed", due, "zh", parts)
    assert "各部门" not in done  # the completion e-mail said it; the status is the answer


def test_a_chinese_wait_and_wrong_code():
    assert flows.too_many_codes(timedelta(minutes=30), "zh").count("30分钟") == 1
    assert "再试1次" in flows.wrong_code(1, "zh")


# -- the forms' actions in a Chinese conversation -----------------------------------------------


@pytest.fixture
def wired(database_url, served, clock):
    store = RequestStore(make_engine(database_url), secret="s", working_days=15, clock=clock)
    served(store)
    yield store
    store.engine.dispose()


def chinese(form, slots=None, said="", intent="inform", set_slot=None, latest="action_listen"):
    events = [{"event": "user", "text": said}]
    if set_slot:
        events.append({"event": "slot", "name": set_slot, "value": said})
    return Tracker(
        sender_id=SENDER,
        slots={"language": "zh", **(slots or {}), "requested_slot": set_slot},
        latest_message={
            "text": said,
            "intent": {"name": intent, "confidence": 0.95},
            "entities": [],
            "message_id": "m1",
        },
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": form} if form else {},
        latest_action_name=latest,
    )


async def run_validation(action, form, slot, said, slots=None):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, chinese(form, slots, said, set_slot=slot), DOMAIN)
    return (
        {e["name"]: e["value"] for e in events if e["event"] == "slot"},
        [m.get("text") for m in dispatcher.messages],
        dispatcher,
    )


def test_the_language_of_a_conversation():
    assert language_of(chinese(None)) == "zh"
    assert language_of(chinese(None, {"language": None})) == "en"
    assert language_of(chinese(None, {"language": "fr"})) == "en"


async def test_a_chinese_deletion_from_the_address_to_the_stored_request(wired):
    form = ValidateDeletionForm()
    dispatcher = CollectingDispatcher()
    ActionAskAccountEmail().run(dispatcher, chinese("deletion_form", said="我要注销账号"), DOMAIN)
    opening, question = (m["text"] for m in dispatcher.messages)
    heading = load_policy().section("collection").heading
    assert f"“{heading}（" in opening  # the published English heading, its Chinese name beside it
    assert "参考译文" in opening and "停止" in opening
    assert question == texts.text("flow.account_email_question", "zh")
    values, said, _ = await run_validation(
        form, "deletion_form", "account_email", "ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ"
    )
    assert values["account_email"] == "wang@example.cn"
    values, said, _ = await run_validation(form, "deletion_form", "account_email", "我不知道")
    assert values["account_email"] is None and said == [texts.text("validation.email", "zh")]
    dispatcher = CollectingDispatcher()
    AskDeletionScope().run(dispatcher, chinese("deletion_form"), DOMAIN)
    assert [b["title"] for b in dispatcher.messages[0]["buttons"]] == ["整个账号", "仅特定数据"]
    values, _, _ = await run_validation(form, "deletion_form", "deletion_scope", "整个账号")
    assert values["deletion_scope"] == "all"
    slots = {
        "account_email": "wang@example.cn",
        "deletion_scope": "all",
        "request_reason": flows.NONE,
    }
    dispatcher = CollectingDispatcher()
    ActionAskConfirmRequest().run(dispatcher, chinese("deletion_form", slots), DOMAIN)
    assert dispatcher.messages[0]["text"].startswith("以下是您的申请")
    values, _, _ = await run_validation(form, "deletion_form", "confirm_request", "是的", slots)
    assert values["confirm_request"] is True
    dispatcher = CollectingDispatcher()
    ActionAskVerificationCode().run(dispatcher, chinese("deletion_form", slots), DOMAIN)
    assert "6位验证码" in dispatcher.messages[0]["text"]
    code_mail = mails(wired)[-1]
    assert code_mail[1] == texts.text("email.verification.subject", "zh")
    code = next(word for word in code_mail[2].split() if word.isdigit() and len(word) == 6)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    values, _, _ = await run_validation(
        form, "deletion_form", "verification_code", full_width, {**slots, "confirm_request": True}
    )
    assert values["verification_code"] == flows.VERIFIED
    dispatcher = CollectingDispatcher()
    events = SubmitDeletion().run(
        dispatcher,
        chinese(None, {**slots, "confirm_request": True, "verification_code": flows.VERIFIED}),
        DOMAIN,
    )
    said = dispatcher.messages[0]["text"]
    assert said.startswith("谢谢。您的删除申请已保存")
    reference = next(e["value"] for e in events if e.get("name") == "last_reference")
    row = wired.get(reference)
    assert row.language == "zh"
    assert mails(wired)[-1][1] == f"您的隐私申请 {reference}"
    assert "处理期限" in mails(wired)[-1][2]
    # Every status e-mail goes out in the request's language, whoever moves it.
    wired.transition(reference, "in_progress", "lena", notify=True)
    assert mails(wired)[-1][2] == f"我们的法务部已开始处理您的申请 {reference}。"
    wired.transition(reference, "completed", "lena", note="已处理", notify=True)
    assert "已办理完毕" in mails(wired)[-1][2] and "我们法务部的备注：已处理" in mails(wired)[-1][2]


def mails(store):
    with transaction(store.sessions) as session:
        return [
            (m.to_address, m.subject, m.body)
            for m in session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars()
        ]


async def test_a_stop_word_read_as_an_answer_ends_the_form(wired):
    values, said, _ = await run_validation(
        ValidateDeletionForm(), "deletion_form", "account_email", "取消"
    )
    assert values["request_abandoned"] is True and values["account_email"] is None
    assert said == [texts.text("flow.cancelled", "zh")]


async def test_two_unusable_chinese_answers_are_explained_in_chinese(wired):
    values, said, dispatcher = await run_validation(
        ValidateCorrectionForm(),
        "correction_form",
        "correction_item",
        "啊？",
        {"invalid_attempts": "correction_item:1"},
    )
    assert "这里我需要的是" in said[0]
    assert dispatcher.messages[0]["buttons"] == [{"title": "停止这项申请", "payload": "/stop"}]


def test_cancel_and_status_in_chinese(wired):
    dispatcher = CollectingDispatcher()
    ActionCancelRequest().run(dispatcher, chinese(None, latest="action_deactivate_loop"), DOMAIN)
    assert dispatcher.messages[0]["text"] == texts.text("flow.cancelled", "zh")
    dispatcher = CollectingDispatcher()
    ActionCheckStatus().run(
        dispatcher,
        chinese(None, {"status_reference": "DEL-7K3M9Q", "status_email": "a@b.cn"}),
        DOMAIN,
    )
    assert dispatcher.messages[0]["text"] == texts.text("flow.status.not_found", "zh")


def test_an_english_request_keeps_english_and_its_e_mails_stay_english(store):
    result = store.submit("access", "a@example.com", verified=True, conversation_id="c")
    assert store.get(result.reference).language == "en"
    subject, body = status_email(store.get(result.reference), "in_progress", None)
    assert subject == f"Your privacy request {result.reference}"
    assert body.startswith("Our legal department")


def test_an_unknown_language_is_stored_as_english(store):
    result = store.submit("access", "a@example.com", conversation_id="c", language="fr")
    assert store.get(result.reference).language == "en"


def test_a_chinese_unsubscribe_is_confirmed_in_chinese(store):
    result = store.submit("unsubscribe", "wang@example.cn", conversation_id="c", language="zh")
    with transaction(store.sessions) as session:
        [mail] = session.execute(select(OutboxMessage)).scalars().all()
    assert mail.body == texts.text(
        "request.unsubscribe.done_email", "zh", reference=result.reference
    )


# -- the language switch and unread messages -----------------------------------------------------


def test_the_widgets_language_switch_passes_the_guard_and_nothing_else_rides_along():
    intents = {"set_language", "affirm"}
    assert is_button_command('/set_language{"language":"zh"}', intents)
    assert is_button_command('/set_language{"language": "en"}', intents)
    assert not is_button_command('/set_language{"language":"fr"}', intents)
    assert not is_button_command('/set_language{"language":"zh","confirm_request":true}', intents)
    assert not is_button_command('/set_language{"language":"zh"}', {"affirm"})
    assert prepare('/set_language{"language":"zh"}x', intents, 100).text.startswith("set_")


def test_an_unread_message_is_answered_in_the_language_it_is_written_in():
    assert reply_for(prepare("删" * 50, (), 10), 10).startswith("这条消息太长了")
    assert reply_for(prepare("word " * 50, (), 10), 10).startswith("That message")
    assert reply_for(prepare("", (), 10), 10, "zh") == texts.text("input.empty", "zh")


@pytest.mark.parametrize(
    "line",
    [
        "我的手机号是13800138000谢谢",
        "电话：+86 138 0013 8000。",
        "号码138-0013-8000",
        "＋８６ １３８ ００１３ ８０００",
        "邮箱ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ",
    ],
)
def test_chinese_phone_numbers_and_addresses_never_reach_a_log(line):
    masked = mask_pii(line)
    assert "0013" not in masked and "００１３" not in masked and "ｗａｎｇ" not in masked
    assert "wang@" not in masked


# -- the migration ---------------------------------------------------------------------------------


def _migrated_from_0004(url):
    """Migrate to 0004, store a request and a ticket as 0004 knew them, then migrate to head."""
    upgrade(url, "0004")
    engine = create_engine(url, future=True)
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO privacy_requests (reference, kind, status, email, details, "
                "made_by_or_for_minor, requester_role, channel, created_at, due_at, updated_at) "
                "VALUES ('DEL-7K3M9Q', 'deletion', 'received', 'a@b.cn', '{}', false, 'self', "
                "'chat', :now, :now, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO handoff_tickets (conversation_id, status, reason, live, transcript, "
                "created_at) VALUES ('c', 'waiting', 'asked', true, '[]', :now)"
            ),
            {"now": now},
        )
    upgrade(url)
    return engine


def _check_language_columns(engine):
    for table in ("privacy_requests", "handoff_tickets"):
        [column] = [c for c in inspect(engine).get_columns(table) if c["name"] == "language"]
        assert column["nullable"] is False and "en" in str(column["default"])
    with engine.begin() as connection:
        assert connection.execute(text("SELECT language FROM privacy_requests")).scalar() == "en"
        assert connection.execute(text("SELECT language FROM handoff_tickets")).scalar() == "en"
    store = RequestStore(engine, secret="s", working_days=15)
    result = store.submit("access", "x@y.cn", conversation_id="c2", language="zh")
    with transaction(store.sessions) as session:
        row = session.execute(
            select(PrivacyRequest).where(PrivacyRequest.reference == result.reference)
        ).scalar_one()
        assert row.language == "zh"
    assert Handoffs(engine).create("c3", "asked", [], live=False, language="zh").language == "zh"


def test_the_language_migration_on_sqlite_keeps_old_rows_english(tmp_path):
    engine = _migrated_from_0004(sqlite_url(tmp_path / "old.db"))
    _check_language_columns(engine)
    engine.dispose()
    upgrade(sqlite_url(tmp_path / "old.db"), "head")  # idempotent at head


@pytest.mark.db
def test_the_language_migration_on_postgresql_keeps_old_rows_english():
    admin, name, url = postgres_database()
    try:
        engine = _migrated_from_0004(url)
        _check_language_columns(engine)
        engine.dispose()
    finally:
        drop_postgres_database(admin, name)


def test_the_language_migration_goes_down_and_up_again(tmp_path):
    from alembic import command
    from alembic.config import Config

    url = sqlite_url(tmp_path / "down.db")
    upgrade(url)
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    command.downgrade(config, "0004")
    engine = create_engine(url, future=True)
    assert "language" not in {c["name"] for c in inspect(engine).get_columns("privacy_requests")}
    engine.dispose()
    upgrade(url)


# -- properties --------------------------------------------------------------------------------

HAN_TEXT = st.text(
    alphabet=st.sampled_from(
        list("是的对好不要算了否取消停止确认可以没问题错我邮箱删除账号全部特定数据跳过，。！？ 　")
    ),
    max_size=12,
)
ANSWERS = st.one_of(HAN_TEXT, st.sampled_from(["是的", "好的", "不对", "算了", "确认", "取消"]))


@given(ANSWERS, st.sampled_from([None, "affirm", "deny", "stop", "inform"]))
@settings(max_examples=examples(300))
def test_chinese_yes_no_is_a_bool_or_none_and_the_intent_wins(answer, intent):
    read = flows.read_yes_no(answer, intent)
    assert read in (True, False, None)
    if intent == "affirm":
        assert read is True
    if intent in ("deny", "stop"):
        assert read is False


@given(ANSWERS, st.sampled_from(["", "！", "。", "!", " ", "吧", "呀！"]))
@settings(max_examples=examples(300))
def test_a_chinese_answer_reads_the_same_with_punctuation_or_a_particle_after_it(answer, tail):
    plain = reader("zh").plain(answer)
    if not plain or plain[-1] in "吧呀":
        return
    for read in (
        lambda t: flows.read_yes_no(t, "inform"),
        flows.is_skip,
        flows.is_stop,
        flows.read_scope,
    ):
        assert read(answer + tail) == read(answer)


@given(
    st.sampled_from(sorted(flows.SLOT_VALIDATORS)),
    st.one_of(
        HAN_TEXT,
        st.sampled_from(
            ["整个账号", "仅特定数据", "微信", "跳过", "ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ"]
        ),
    ),
)
@settings(max_examples=examples(300))
def test_the_conversations_language_changes_what_is_said_never_what_is_stored(slot, answer):
    validate = flows.SLOT_VALIDATORS[slot]
    stored = {}
    for language in ("en", "zh"):
        try:
            stored[language] = validate(answer, language)
        except validators.Invalid:
            stored[language] = None
    assert stored["en"] == stored["zh"]


@given(
    st.text(alphabet=st.sampled_from(list("我的手机号是谢谢电话请打")), max_size=6),
    st.sampled_from("3456789"),
    st.text("0123456789", min_size=9, max_size=9),
    st.sampled_from(["{}", "+86 {}", "＋８６{}"]),
    st.booleans(),
)
@settings(max_examples=examples(300))
def test_a_mobile_number_glued_to_chinese_never_reaches_a_log(before, second, rest, shape, wide):
    number = f"1{second}{rest}"
    typed = shape.format(f"{number[:3]}-{number[3:7]}-{number[7:]}")
    if wide:
        typed = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in typed)
    masked = mask_pii(f"{before}{typed}谢谢")
    assert number[:9] not in masked.replace("-", "") and f"***{number[-2:]}" in masked
