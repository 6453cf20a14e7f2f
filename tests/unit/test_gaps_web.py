"""Answer ratings and policy gaps on the web app, with Starlette's test client: the answer
reference relayed to the page, POST /api/feedback, and /staff/gaps with its chart and CSV."""

import csv
import io
import json
import re
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import select

from bot.core.settings import load_settings
from bot.core.texts import text
from bot.policy.gaps import AnswerRef, section_headings
from bot.requests.store import RequestStore
from bot.services import Services
from bot.storage.db import make_engine, transaction
from bot.storage.models import AnswerFeedback, AuditEntry, PolicyGap
from bot.web.app import create_app, normalise_rasa_messages
from tests.support import Clock
from tests.support.databases import copy_sqlite
from tests.support.staff import SecondFactors, add_members, client
from tests.support.staff import logged_in as staff_logged_in
from tests.support.visitors import holding

SECRET = "web-test-secret"
SESSION_SECRET = "test-secret"  # the app's: it signs the visitors' conversation cookies
SENDER = "b" * 32
PASSWORD = "a long enough password"
SECOND_FACTORS = SecondFactors()
XSS = "<script>alert(1)</script>"
ANSWER_TEXT = "The policy section “Transmission and storage of personal data” says: …"


def answer_ref(**overrides):
    fields = {
        "kind": "direct",
        "sections": ("storage",),
        "topic": None,
        "language": "en",
        "question": "where is my data stored",
    }
    fields.update(overrides)
    return AnswerRef(**fields)


def rasa_reply(sender, ref=None):
    """What Rasa's REST channel sends for a policy answer: the text, then the custom payload."""
    ref = ref or answer_ref()
    return [
        {
            "recipient_id": sender,
            "text": ANSWER_TEXT,
            "buttons": [{"title": "Show the whole section", "payload": "/more"}],
        },
        {"recipient_id": sender, "custom": {"answer": ref.payload(SECRET, sender)}},
    ]


def rasa_stub():
    def handler(request: httpx.Request) -> httpx.Response:
        sender = json.loads(request.content)["sender"]
        return httpx.Response(200, json=rasa_reply(sender))

    return httpx.MockTransport(handler)


def logged_in(app, username):
    return staff_logged_in(app, username, PASSWORD, SECOND_FACTORS)


@pytest.fixture(autouse=True)
def secret(set_env):
    set_env(APP_SECRET=SECRET)


def make_services(url):
    services = Services(RequestStore(make_engine(url), secret="s"))
    return services


@pytest.fixture(scope="module")
def staff_database(sqlite_template, tmp_path_factory):
    """The staff accounts, made once for the module (each scrypt hash takes ~0.1 s); every test
    gets a copy of this database, accounts included."""
    path = tmp_path_factory.mktemp("gaps-web") / "gaps-web.db"
    services = make_services(copy_sqlite(sqlite_template, path))
    # the admin has two-factor, as admins must
    add_members(
        services.directory,
        (("lena", "legal"), ("sam", "support"), ("ada", "admin")),
        PASSWORD,
        SECRET,
        SECOND_FACTORS,
    )
    services.store.engine.dispose()
    return path


@pytest.fixture
def services(staff_database, tmp_path):
    services = make_services(copy_sqlite(staff_database, tmp_path / "gaps-web.db"))
    services.gaps.clock = Clock()  # Monday 30 November 2026, 09:00 UTC
    yield services
    services.store.engine.dispose()


def app_for(services):
    settings = replace(load_settings(), rasa_url="http://rasa.test")
    return create_app(
        settings, transport=rasa_stub(), services=services, session_secret=SESSION_SECRET
    )


def visitor(app, conversation=SENDER):
    """A client in `conversation`, as the app's cookie says."""
    return holding(client(app), conversation, SESSION_SECRET)


@pytest.fixture
def app(services):
    return app_for(services)


def all_rows(services, model):
    with transaction(services.store.sessions) as session:
        return list(session.execute(select(model).order_by(model.id)).scalars())


# -- the answer reference, relayed to the page ---------------------------------------------


def test_an_answer_is_attached_to_the_text_before_it():
    messages = normalise_rasa_messages(rasa_reply(SENDER))
    assert messages == [
        {
            "text": ANSWER_TEXT,
            "buttons": [{"title": "Show the whole section", "payload": "/more"}],
            "answer": answer_ref().payload(SECRET, SENDER),
        }
    ]


def test_an_answer_in_the_same_message_as_its_text_is_kept_with_it():
    payload = answer_ref().payload(SECRET, SENDER)
    messages = normalise_rasa_messages(
        [{"text": "Hi"}, {"text": "Answer", "custom": {"answer": payload}}]
    )
    assert messages == [{"text": "Hi"}, {"text": "Answer", "answer": payload}]


@pytest.mark.parametrize(
    "reply",
    [
        # Not an answer: dropped as before.
        [{"text": "A"}, {"custom": {"map": [1, 2]}}],
        [{"text": "A"}, {"custom": "text"}],
        # An answer of the wrong shape.
        [{"text": "A"}, {"custom": {"answer": {"kind": "direct"}}}],
        [
            {"text": "A"},
            {"custom": {"answer": {**answer_ref().payload(SECRET, SENDER), "html": "<b>x</b>"}}},
        ],
        [
            {"text": "A"},
            {"custom": {"answer": {**answer_ref().payload(SECRET, SENDER), "kind": "other"}}},
        ],
    ],
)
def test_anything_else_in_a_custom_message_is_dropped(reply):
    assert normalise_rasa_messages(reply) == [{"text": "A"}]


def test_an_answer_with_no_text_before_it_is_dropped():
    payload = answer_ref().payload(SECRET, SENDER)
    assert normalise_rasa_messages([{"custom": {"answer": payload}}, {"text": "B"}]) == [
        {"text": "B"}
    ]
    only_buttons = [
        {"buttons": [{"title": "Yes", "payload": "/affirm"}]},
        {"custom": {"answer": payload}},
    ]
    assert normalise_rasa_messages(only_buttons) == [
        {"buttons": [{"title": "Yes", "payload": "/affirm"}]}
    ]


def test_the_chat_relays_the_answer_to_the_page(app):
    response = visitor(app).post("/api/chat", json={"message": "where?"})
    assert response.status_code == 200
    [message] = response.json()["messages"]
    assert message["answer"] == answer_ref().payload(SECRET, SENDER)


def test_an_answer_is_rated_in_the_conversation_the_cookie_holds_whatever_the_body_says(
    app, services
):
    """The rating is checked against the caller's own conversation: a page that still sends a
    `sender` is heard, but cannot rate another visitor's answers by naming their id."""
    theirs = answer_ref().payload(SECRET, SENDER)
    other = visitor(app, "o" * 32)
    refused = other.post(
        "/api/feedback", json={"sender": SENDER, "answer": theirs, "helpful": False}
    )
    assert refused.status_code == 400 and all_rows(services, AnswerFeedback) == []
    own = visitor(app).post(
        "/api/feedback", json={"sender": "o" * 32, "answer": theirs, "helpful": True}
    )
    assert own.status_code == 200 and len(all_rows(services, AnswerFeedback)) == 1


def test_a_rating_needs_the_conversation_cookie(app, services):
    response = client(app).post(
        "/api/feedback",
        json={"sender": SENDER, "answer": answer_ref().payload(SECRET, SENDER), "helpful": True},
    )
    assert response.status_code == 400 and response.json() == {"error": text("web.bad_session")}
    assert all_rows(services, AnswerFeedback) == []


# -- POST /api/feedback ---------------------------------------------------------------------


def rate(app, helpful, sender=SENDER, answer=None):
    answer = answer if answer is not None else answer_ref().payload(SECRET, sender)
    return visitor(app, sender).post("/api/feedback", json={"answer": answer, "helpful": helpful})


def test_a_helpful_rating_is_stored(app, services):
    response = rate(app, True)
    assert response.status_code == 200 and response.json() == {"ok": True}
    [rating] = all_rows(services, AnswerFeedback)
    assert (rating.section, rating.helpful, rating.reply_kind) == ("storage", True, "direct")
    assert all_rows(services, PolicyGap) == []


def test_an_unhelpful_rating_is_stored_with_its_masked_question(app, services):
    question = "where is my data stored? I am Li Na, li.na@example.com"
    answer = answer_ref(question=question).payload(SECRET, SENDER)
    assert rate(app, False, answer=answer).json() == {"ok": True}
    [rating] = all_rows(services, AnswerFeedback)
    assert rating.helpful is False
    [gap] = all_rows(services, PolicyGap)
    assert gap.reply_kind == "unhelpful" and gap.sections == ["storage"]
    assert gap.question == "where is my data stored? I am [name], [e-mail]"


def tampered(field, value):
    payload = answer_ref().payload(SECRET, SENDER)
    payload[field] = value
    return payload


@pytest.mark.parametrize(
    "body,expected",
    [
        ("not json", "could not be read"),
        (["a", "list"], "could not be read"),
        # Signed for the conversation the body names, not the caller's.
        (
            {"sender": "x" * 32, "answer": answer_ref().payload(SECRET, "x" * 32), "helpful": True},
            "could not be read",
        ),
        ({"sender": SENDER, "answer": answer_ref().payload(SECRET, SENDER)}, "Yes or No"),
        (
            {"sender": SENDER, "answer": answer_ref().payload(SECRET, SENDER), "helpful": "yes"},
            "Yes or No",
        ),
        (
            {"sender": SENDER, "answer": answer_ref().payload(SECRET, SENDER), "helpful": 1},
            "Yes or No",
        ),
        ({"sender": SENDER, "helpful": False}, "could not be read"),
        ({"sender": SENDER, "answer": "storage", "helpful": False}, "could not be read"),
        (
            {"sender": SENDER, "answer": tampered("sections", ["sharing"]), "helpful": False},
            "could not be read",
        ),
        (
            {"sender": SENDER, "answer": tampered("question", "something else"), "helpful": False},
            "could not be read",
        ),
        (
            {"sender": SENDER, "answer": tampered("token", "0" * 32), "helpful": False},
            "could not be read",
        ),
        # Signed for another conversation.
        (
            {"sender": SENDER, "answer": answer_ref().payload(SECRET, "c" * 32), "helpful": False},
            "could not be read",
        ),
        # Signed with another key.
        (
            {"sender": SENDER, "answer": answer_ref().payload("other", SENDER), "helpful": False},
            "could not be read",
        ),
    ],
)
def test_bad_ratings_get_a_friendly_400_and_store_nothing(app, services, body, expected):
    c = visitor(app)
    if isinstance(body, str):
        response = c.post(
            "/api/feedback", content=body, headers={"content-type": "application/json"}
        )
    else:
        response = c.post("/api/feedback", json=body)
    assert response.status_code == 400
    assert expected in response.json()["error"]
    assert all_rows(services, AnswerFeedback) == [] and all_rows(services, PolicyGap) == []


def without_gap_tables(migrated_sqlite):
    """A request database whose rating tables are missing: every rating fails as a database
    failure does, while the rest (the chat's handoff check) works."""
    services = make_services(migrated_sqlite("broken.db"))
    with services.store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE answer_feedback")
        connection.exec_driver_sql("DROP TABLE policy_gaps")
    return services


def test_a_database_failure_is_a_friendly_503_and_the_chat_still_works(migrated_sqlite):
    services = without_gap_tables(migrated_sqlite)
    app = app_for(services)
    response = rate(app, False)
    assert response.status_code == 503 and response.json() == {
        "error": text("web.feedback.unavailable")
    }
    chat = visitor(app).post("/api/chat", json={"message": "where?"})
    assert chat.status_code == 200 and chat.json()["messages"][0]["text"] == ANSWER_TEXT
    services.store.engine.dispose()


def test_no_secret_configured_is_a_503(app, services, set_env, no_env_file):
    set_env(APP_SECRET=None)
    response = rate(app, True)
    assert response.status_code == 503 and "try again" in response.json()["error"]
    assert all_rows(services, AnswerFeedback) == []


def test_the_rating_log_line_names_no_address(app, caplog, migrated_sqlite):
    services = without_gap_tables(migrated_sqlite)
    answer = answer_ref(question="li.na@example.com 13800138000").payload(SECRET, SENDER)
    rate(app_for(services), False, answer=answer)
    assert "Answer rating not saved" in caplog.text
    assert "li.na" not in caplog.text and "13800138000" not in caplog.text
    services.store.engine.dispose()


# -- /staff/gaps ------------------------------------------------------------------------------


def test_only_legal_and_admin_see_the_gaps(app):
    anonymous = client(app)
    response = anonymous.get("/staff/gaps")
    assert response.status_code == 303 and response.headers["location"].startswith("/staff/login")
    assert anonymous.get("/staff/gaps.csv").status_code == 401
    support = logged_in(app, "sam")
    assert support.get("/staff/gaps").status_code == 403
    assert support.get("/staff/gaps.csv").status_code == 403
    assert 'href="/staff/gaps"' not in support.get("/staff/handoffs").text
    for name in ("lena", "ada"):
        c = logged_in(app, name)
        assert c.get("/staff/gaps").status_code == 200
        assert c.get("/staff/gaps.csv").status_code == 200


def test_the_navigation_links_to_the_gaps(app):
    legal = logged_in(app, "lena")
    assert 'href="/staff/gaps"' in legal.get("/staff/requests").text
    assert re.search(
        r'<a href="/staff/gaps" class="active" aria-current="page">', legal.get("/staff/gaps").text
    )


def record_some(services):
    log = services.gaps
    for question in ("do you use cookies?", "which cookies are set?", XSS):
        log.record(
            question=question, reply_kind="not_covered", topic="cookies", sections=[], language="en"
        )
    log.record(question="blorp", reply_kind="fallback", topic=None, sections=[], language="en")
    log.feedback(answer_ref(), helpful=True)
    log.feedback(answer_ref(), helpful=False)
    log.feedback(answer_ref(sections=("sharing",)), helpful=False)


def test_the_page_ranks_topics_escapes_questions_and_shows_the_ratings(app, services):
    record_some(services)
    html = logged_in(app, "lena").get("/staff/gaps").text
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    topics = re.findall(r'<tr class="gap-topic" data-topic="([^"]*)">', html)
    assert topics == ["cookies", ""]  # 3 cookie questions; then the 3 without a topic
    assert "no topic recognised" in html and "which cookies are set?" in html
    sections = re.findall(r'<tr class="gap-section" data-section="([^"]*)">', html)
    assert sections == ["storage", "sharing"]  # one unhelpful each; storage has more ratings
    row = html[html.index('data-section="storage"') :]
    row = row[: row.index("</tr>")]
    assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["1", "1", "50 %"]
    assert section_headings()["storage"] in row  # named by its heading, as in the policy


def test_the_weekly_chart_is_inline_svg_with_week_labels_titles_and_counts(app, services):
    record_some(services)
    html = logged_in(app, "lena").get("/staff/gaps").text
    start = html.index('<svg class="chart"')
    svg = html[start : html.index("</svg>", start) + 6]
    assert 'role="img"' in svg and '<title id="gap-chart-title">' in svg and "<desc" in svg
    bars = re.findall(r'<g class="chart-bar" data-week="([^"]+)" data-count="(\d+)">', svg)
    assert len(bars) == 12 and bars[-1] == ("2026-W49", "6") and bars[0][0] == "2026-W38"
    assert all(count == "0" for _, count in bars[:-1])
    assert ">30 Nov<" in svg and ">14 Sep<" in svg  # the week labels on the x axis
    assert "<title>Week of 30 Nov 2026 (2026-W49): 6 questions</title>" in svg
    assert "Week starting (Monday, UTC)" in svg and ">Questions<" in svg
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert '<td class="mono">2026-W49</td>' in html  # the same numbers as a table


def test_the_page_needs_nothing_from_another_host(app):
    html = logged_in(app, "lena").get("/staff/gaps").text
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)


def test_the_csv_has_the_columns_masked_questions_and_no_formulas(app, services):
    services.gaps.record(
        question='=HYPERLINK("http://evil.example") mail a@b.example.com',
        reply_kind="closest",
        topic="cookies",
        sections=["storage", "sharing"],
        language="en",
    )
    services.gaps.record(
        question="-1 and +1", reply_kind="fallback", topic=None, sections=[], language="zh"
    )
    response = logged_in(app, "lena").get("/staff/gaps.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "policy-gaps.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["created_at", "reply_kind", "topic", "sections", "language", "question"]
    assert rows[1] == [
        "2026-11-30T09:00:00+00:00",
        "closest",
        "cookies",
        "storage;sharing",
        "en",
        '\'=HYPERLINK("http://evil.example") mail [e-mail]',
    ]
    assert rows[2][1:] == ["fallback", "", "", "zh", "'-1 and +1"]
    assert len(rows) == 3


def test_viewing_and_exporting_are_audited(app, services):
    record_some(services)
    legal = logged_in(app, "lena")
    legal.get("/staff/gaps")
    legal.get("/staff/gaps.csv")
    logged_in(app, "sam").get("/staff/gaps")  # refused: not audited as a view
    entries = [
        (a.actor, a.action, a.target, a.detail)
        for a in all_rows(services, AuditEntry)
        if a.target == "gaps"
    ]
    assert entries == [
        ("lena", "view_gaps", "gaps", "6 gaps, 2 topics"),
        ("lena", "export", "gaps", "6 policy gaps"),
    ]
