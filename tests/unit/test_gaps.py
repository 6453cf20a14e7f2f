"""What the policy leaves unanswered (bot.policy.gaps): answer references and their tokens, the
gap log on SQLite and PostgreSQL, the report /staff/gaps shows, the migration, and the retention
period."""

import json
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import func, inspect, select

from bot.core.paths import ROOT
from bot.policy import gaps
from bot.policy.gaps import (
    GAP_KINDS,
    MAX_QUESTION_CHARS,
    NO_TOPIC_LABEL,
    REPLY_KINDS,
    AnswerRef,
    GapLog,
    clean_answer_payload,
    week_start,
)
from bot.retention.purge import PurgeReport, describe, purge
from bot.retention.trackers import RasaApiTracker
from bot.storage.db import make_engine, transaction, upgrade
from bot.storage.models import AnswerFeedback, PolicyGap
from tests.support import MONDAY as NOW
from tests.support import Clock
from tests.support.retention import run_purge

SECRET = "test-secret"
SENDER = "f" * 32
DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)


def ref(**overrides):
    fields = {
        "kind": "closest",
        "sections": ("storage",),
        "topic": "data_retention",
        "language": "en",
        "question": "how long do you keep my recordings?",
    }
    fields.update(overrides)
    return AnswerRef(**fields)


@pytest.fixture
def log(database_url):
    log = GapLog(make_engine(database_url), clock=Clock())
    yield log
    log.engine.dispose()


def rows(log, model):
    with transaction(log.sessions) as session:
        return list(session.execute(select(model).order_by(model.id)).scalars())


# -- answer references and their tokens ----------------------------------------------------


def test_payload_has_the_agreed_keys_and_round_trips():
    answer = ref(sections=("storage", "sharing"))
    payload = answer.payload(SECRET, SENDER)
    assert set(payload) == {"kind", "sections", "topic", "language", "question", "token"}
    assert payload["sections"] == ["storage", "sharing"] and len(payload["token"]) == 32
    assert int(payload["token"], 16) >= 0  # hex
    # JSON there and back, as the page keeps and sends it.
    assert AnswerRef.from_payload(json.loads(json.dumps(payload)), SECRET, SENDER) == answer


def test_token_is_the_documented_hmac():
    import hashlib
    import hmac

    answer = ref(question="我的数据存在哪里？", language="zh")
    canonical = json.dumps(
        [
            SENDER,
            answer.kind,
            list(answer.sections),
            answer.topic,
            answer.language,
            answer.question,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    expected = hmac.new(SECRET.encode(), canonical.encode(), hashlib.sha256).hexdigest()[:32]
    assert answer.payload(SECRET, SENDER)["token"] == expected


@pytest.mark.parametrize(
    "field,value",
    [
        ("kind", "direct"),
        ("sections", ["sharing"]),
        ("sections", []),
        ("sections", ["storage", "sharing"]),
        ("topic", None),
        ("topic", "cookies"),
        ("language", "zh"),
        ("question", "how long do you keep my recording?"),
        ("token", "0" * 32),
    ],
)
def test_a_tampered_field_is_refused(field, value):
    payload = ref().payload(SECRET, SENDER)
    assert payload[field] != value
    payload[field] = value
    with pytest.raises(ValueError):
        AnswerRef.from_payload(payload, SECRET, SENDER)


def test_another_sender_or_secret_is_refused():
    payload = ref().payload(SECRET, SENDER)
    with pytest.raises(ValueError, match="token"):
        AnswerRef.from_payload(payload, SECRET, "e" * 32)
    with pytest.raises(ValueError, match="token"):
        AnswerRef.from_payload(payload, "another secret", SENDER)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: "not a dict",
        lambda p: None,
        lambda p: [p],
        lambda p: {k: v for k, v in p.items() if k != "token"},
        lambda p: {**p, "extra": 1},
        lambda p: {**p, "kind": "made_up"},
        lambda p: {**p, "kind": 3},
        lambda p: {**p, "sections": "storage"},
        lambda p: {**p, "sections": [1]},
        lambda p: {**p, "sections": ["Storage!"]},
        lambda p: {**p, "sections": ["s"] * 13},
        lambda p: {**p, "topic": ""},
        lambda p: {**p, "topic": "x" * 65},
        lambda p: {**p, "topic": ["list"]},
        lambda p: {**p, "language": "fr"},
        lambda p: {**p, "question": None},
        lambda p: {**p, "question": "q" * (gaps.MAX_PAYLOAD_QUESTION_CHARS + 1)},
        lambda p: {**p, "token": p["token"].upper()},
        lambda p: {**p, "token": p["token"][:31]},
        lambda p: {**p, "token": 12},
    ],
)
def test_a_payload_of_the_wrong_shape_is_refused(mangle):
    data = mangle(ref().payload(SECRET, SENDER))
    with pytest.raises(ValueError):
        AnswerRef.from_payload(data, SECRET, SENDER)
    assert clean_answer_payload(data) is None


def test_clean_answer_payload_keeps_a_good_payload_as_it_is():
    payload = ref().payload(SECRET, SENDER)
    assert clean_answer_payload(payload) == payload
    assert clean_answer_payload(payload) is not payload  # a copy, not the visitor's object


@pytest.mark.parametrize(
    "overrides",
    [{"kind": "unhelpful"}, {"language": "de"}, {"sections": ("Bad Id",)}, {"topic": "UPPER"}],
)
def test_an_answer_ref_of_unknown_values_cannot_be_made(overrides):
    with pytest.raises(ValueError):
        ref(**overrides)


def test_an_answer_ref_takes_a_list_and_cuts_an_overlong_question():
    made = ref(sections=["storage"], question="x" * 10_000)
    assert made.sections == ("storage",)
    assert len(made.question) == gaps.MAX_PAYLOAD_QUESTION_CHARS
    assert AnswerRef.from_payload(made.payload(SECRET, SENDER), SECRET, SENDER) == made


def test_an_empty_secret_signs_nothing():
    with pytest.raises(ValueError):
        ref().payload("", SENDER)


def test_the_kinds():
    assert REPLY_KINDS == ("direct", "closest", "not_covered", "fallback")
    assert GAP_KINDS == ("closest", "not_covered", "fallback", "unhelpful")


# -- recording ----------------------------------------------------------------------------------


def test_record_stores_a_masked_question_with_its_topic_kind_language_and_date(log):
    log.record(
        question="My name is Li Wei, mail li.wei@example.com or call +86 138 0013 8000 "
        "about DEL-7K3M9Q: do you keep recordings?",
        reply_kind="not_covered",
        topic="meeting_recordings",
        sections=[],
        language="en",
    )
    [gap] = rows(log, PolicyGap)
    assert gap.question == (
        "My name is [name], mail [e-mail] or call [phone] about "
        "[reference]: do you keep recordings?"
    )
    assert (gap.reply_kind, gap.topic, gap.sections, gap.language) == (
        "not_covered",
        "meeting_recordings",
        [],
        "en",
    )
    assert gap.created_at == NOW


def test_record_keeps_the_language_the_question_was_asked_in(log):
    log.record(
        question="你们会录制会议吗？",
        reply_kind="not_covered",
        topic="meeting_recordings",
        sections=[],
        language="zh",
    )
    log.record(
        question="do you record meetings?",
        reply_kind="not_covered",
        topic="meeting_recordings",
        sections=[],
        language="en",
    )
    assert [(g.language, g.question[:8]) for g in rows(log, PolicyGap)] == [
        ("zh", "你们会录制会议吗"),
        ("en", "do you r"),
    ]
    assert [r["language"] for r in log.export_rows()] == ["zh", "en"]


def test_record_caps_the_question_after_masking(log):
    address = "someone.with.a.long.name@example.com"
    question = "x" * (MAX_QUESTION_CHARS - 10) + " " + address + " and more" * 100
    log.record(question=question, reply_kind="fallback", topic=None, sections=(), language="en")
    [gap] = rows(log, PolicyGap)
    assert len(gap.question) == MAX_QUESTION_CHARS
    # Cut first, the address would have been left as "someone." and missed by the mask.
    assert "someone" not in gap.question and "[e-mail]" in gap.question


@pytest.mark.parametrize(
    "overrides",
    [
        {"reply_kind": "direct"},
        {"reply_kind": "nonsense"},
        {"language": "fr"},
        {"sections": "storage"},
        {"topic": "Not An Id"},
    ],
)
def test_record_refuses_what_is_not_a_gap(log, overrides):
    fields = {
        "question": "q",
        "reply_kind": "closest",
        "topic": None,
        "sections": [],
        "language": "en",
        **overrides,
    }
    with pytest.raises(ValueError):
        log.record(**fields)
    assert rows(log, PolicyGap) == []


def test_helpful_feedback_stores_one_rating_per_section_and_no_gap(log):
    log.feedback(ref(sections=("storage", "security")), helpful=True)
    ratings = rows(log, AnswerFeedback)
    assert [(r.section, r.helpful, r.reply_kind, r.topic, r.language) for r in ratings] == [
        ("storage", True, "closest", "data_retention", "en"),
        ("security", True, "closest", "data_retention", "en"),
    ]
    assert rows(log, PolicyGap) == []


def test_unhelpful_feedback_is_also_a_masked_gap(log):
    log.feedback(
        ref(
            kind="direct",
            sections=(),
            topic=None,
            language="zh",
            question="我叫张伟，我的电话是13800138000，你们会卖我的数据吗",
        ),
        helpful=False,
    )
    [rating] = rows(log, AnswerFeedback)
    assert (rating.section, rating.helpful, rating.reply_kind) == (None, False, "direct")
    [gap] = rows(log, PolicyGap)
    assert (gap.reply_kind, gap.topic, gap.language) == ("unhelpful", None, "zh")
    assert gap.question == "我叫[name]，我的电话是[phone]，你们会卖我的数据吗"


# -- the report ---------------------------------------------------------------------------------


def fill(log, entries):
    """entries: (days before NOW, topic, reply kind, question)."""
    for days, topic, kind, question in entries:
        log.clock.now = NOW - days * DAY
        log.record(question=question, reply_kind=kind, topic=topic, sections=[], language="en")
    log.clock.now = NOW


def test_report_ranks_topics_with_their_kinds_and_latest_examples(log):
    fill(
        log,
        [
            (10, "cookies", "not_covered", "do you use cookies?"),
            (9, "cookies", "not_covered", "what cookies are set?"),
            (8, "cookies", "closest", "do you use cookies?"),
            (7, "cookies", "unhelpful", "tracking pixels?"),
            (6, "data_retention", "closest", "how long do you keep my data?"),
            (5, "data_retention", "not_covered", "when is my data deleted"),
            (4, None, "fallback", "asdf qwer"),
            (3, "breach", "not_covered", "will you tell me about a breach?"),
            (2, "breach", "not_covered", "data breach notification?"),
            (1, None, "fallback", "blorp"),
        ],
    )
    report = log.report(examples=3)
    assert [(t.topic, t.count) for t in report.topics] == [
        ("cookies", 4),
        ("breach", 2),
        ("data_retention", 2),
        (None, 2),
    ]
    # Ties are ordered by label: "breach" < "data_retention" < "no topic recognised".
    assert [t.label for t in report.topics[1:]] == ["breach", "data_retention", NO_TOPIC_LABEL]
    cookies = report.topics[0]
    assert dict(cookies.kinds) == {"closest": 1, "not_covered": 2, "fallback": 0, "unhelpful": 1}
    # The latest questions first, each once.
    assert cookies.examples == ("tracking pixels?", "do you use cookies?", "what cookies are set?")
    assert report.total == 10
    assert log.report(examples=1).topics[0].examples == ("tracking pixels?",)


def test_report_ranks_by_count_not_by_label(log):
    fill(log, [(1, "zzz_topic", "not_covered", "a")] * 3 + [(1, "aaa_topic", "closest", "b")])
    assert [t.topic for t in log.report().topics] == ["zzz_topic", "aaa_topic"]


def test_weekly_counts_are_zero_filled_iso_weeks_ending_with_the_current_one(log):
    # NOW is Monday 30 November 2026, 09:00 UTC: ISO week 2026-W49 starts that day.
    fill(
        log,
        [
            (0, "cookies", "not_covered", "this morning"),  # W49
            (-0.5, "cookies", "not_covered", "tonight"),  # W49 (later today)
            (1, "cookies", "not_covered", "last Sunday"),  # W48
            (7, "cookies", "not_covered", "a week ago"),  # W48 (Monday 23 Nov)
            (8, "cookies", "not_covered", "W47 Sunday"),  # W47
            (27, "cookies", "not_covered", "W45"),  # Tuesday 3 Nov: W45
            (84, "cookies", "not_covered", "too old"),  # 7 Sep: W37, outside 12 weeks
        ],
    )
    report = log.report(weeks=12)
    assert len(report.weeks) == 12
    assert report.weeks[-1].start == date(2026, 11, 30) and report.weeks[-1].iso_week == "2026-W49"
    assert report.weeks[0].start == date(2026, 9, 14) and report.weeks[0].iso_week == "2026-W38"
    assert all(w.start.weekday() == 0 for w in report.weeks)
    counts = {w.iso_week: w.count for w in report.weeks}
    assert counts["2026-W49"] == 2 and counts["2026-W48"] == 2 and counts["2026-W47"] == 1
    assert counts["2026-W45"] == 1 and counts["2026-W46"] == 0
    assert sum(counts.values()) == 6  # the one from W37 is outside the window
    assert report.total == 7  # but still counted for its topic
    assert [w.iso_week for w in log.report(weeks=4).weeks] == [
        "2026-W46",
        "2026-W47",
        "2026-W48",
        "2026-W49",
    ]


def test_weeks_across_a_year_end():
    assert week_start(datetime(2027, 1, 1, 12, tzinfo=timezone.utc)) == date(2026, 12, 28)
    assert week_start(datetime(2026, 12, 28, 0, 0, tzinfo=timezone.utc)) == date(2026, 12, 28)
    assert week_start(datetime(2026, 12, 27, 23, 59, tzinfo=timezone.utc)) == date(2026, 12, 21)
    # 01:00 on a Monday in Beijing is still Sunday in UTC.
    beijing = timezone(timedelta(hours=8))
    assert week_start(datetime(2026, 11, 30, 1, 0, tzinfo=beijing)) == date(2026, 11, 23)


def test_report_of_an_empty_log(log):
    report = log.report(weeks=3)
    assert report.topics == () and report.sections == () and report.total == 0
    assert [w.count for w in report.weeks] == [0, 0, 0]


def test_section_ratings_and_their_ratio(log):
    for _ in range(3):
        log.feedback(ref(kind="direct", sections=("storage",)), helpful=True)
    log.feedback(ref(kind="direct", sections=("storage",)), helpful=False)
    log.feedback(ref(kind="closest", sections=("sharing", "storage")), helpful=False)
    log.feedback(ref(kind="closest", sections=("sharing",)), helpful=False)
    log.feedback(ref(kind="not_covered", sections=()), helpful=True)
    by_section = {s.section: s for s in log.report().sections}
    assert (by_section["storage"].helpful, by_section["storage"].unhelpful) == (3, 2)
    assert by_section["storage"].ratio == pytest.approx(0.6)
    assert (by_section["sharing"].helpful, by_section["sharing"].unhelpful) == (0, 2)
    assert by_section["sharing"].ratio == 0
    assert (by_section[None].helpful, by_section[None].ratio) == (1, 1.0)
    # Most unhelpful first; with as many, the one with more ratings.
    assert [s.section for s in log.report().sections] == ["storage", "sharing", None]
    # Every unhelpful answer is a gap as well.
    assert log.report().total == 3


def test_export_rows_are_text_oldest_first(log):
    fill(
        log,
        [
            (2, "cookies", "not_covered", "cookies? mail me at a@b.example.com"),
            (1, None, "fallback", "=1+1"),
        ],
    )
    log.clock.now = NOW
    log.feedback(ref(sections=("storage", "sharing"), language="zh"), helpful=False)
    exported = log.export_rows()
    assert [set(r) for r in exported] == [
        {"created_at", "reply_kind", "topic", "sections", "language", "question"}
    ] * 3
    assert exported[0] == {
        "created_at": (NOW - 2 * DAY).isoformat(),
        "reply_kind": "not_covered",
        "topic": "cookies",
        "sections": "",
        "language": "en",
        "question": "cookies? mail me at [e-mail]",
    }
    assert exported[1]["topic"] == "" and exported[1]["question"] == "=1+1"
    assert (exported[2]["reply_kind"], exported[2]["sections"], exported[2]["language"]) == (
        "unhelpful",
        "storage;sharing",
        "zh",
    )


# -- retention ----------------------------------------------------------------------------------


def fill_for_purge(log):
    fill(
        log,
        [
            (40, "cookies", "not_covered", "old"),
            (31, None, "fallback", "old too"),
            (29, "cookies", "closest", "recent"),
            (1, None, "fallback", "new"),
        ],
    )
    for days, helpful in ((45, True), (35, False), (2, True)):
        log.clock.now = NOW - days * DAY
        log.feedback(ref(sections=("storage",)), helpful=helpful)
    log.clock.now = NOW
    # 4 gaps + 1 unhelpful = 5 gaps (3 older than 30 days); 3 ratings (2 older).


def test_purge_removes_gaps_and_ratings_older_than_the_age_and_dry_run_only_counts(log):
    fill_for_purge(log)
    assert log.purge(timedelta(days=30), now=NOW, dry_run=True) == (3, 2)
    assert len(rows(log, PolicyGap)) == 5 and len(rows(log, AnswerFeedback)) == 3
    assert log.purge(timedelta(days=30), now=NOW) == (3, 2)
    assert sorted(g.question for g in rows(log, PolicyGap)) == ["new", "recent"]
    assert [r.created_at for r in rows(log, AnswerFeedback)] == [NOW - 2 * DAY]
    assert log.purge(timedelta(days=30), now=NOW) == (0, 0)


def no_rasa():
    def refuse(request):
        raise AssertionError(f"unexpected call to Rasa: {request.url}")

    return RasaApiTracker("http://rasa.test", "tok", transport=httpx.MockTransport(refuse))


def test_the_retention_purge_covers_gaps_and_ratings(log):
    fill_for_purge(log)
    dry = purge(
        timedelta(days=30), now=NOW, engine=log.engine, gaps=log, tracker=no_rasa(), dry_run=True
    )
    assert (dry.policy_gaps, dry.answer_feedback) == (3, 2)
    assert (
        "Would remove 3 policy gap entries (masked unanswered questions) and 2 answer "
        "ratings." in describe(dry)
    )
    assert len(rows(log, PolicyGap)) == 5
    done = purge(timedelta(days=30), now=NOW, engine=log.engine, gaps=log, tracker=no_rasa())
    assert (done.policy_gaps, done.answer_feedback) == (3, 2) and done.ok
    assert (
        "Removed 3 policy gap entries (masked unanswered questions) and 2 answer ratings."
        in describe(done)
    )
    assert len(rows(log, PolicyGap)) == 2 and len(rows(log, AnswerFeedback)) == 1


def test_describe_says_one_entry_in_the_singular():
    report = PurgeReport(timedelta(days=30), NOW, False, "memory", policy_gaps=1, answer_feedback=1)
    assert (
        "Removed 1 policy gap entry (masked unanswered questions) and 1 answer rating."
        in describe(report)
    )


def test_the_purge_command_reports_gaps_and_ratings(migrated_sqlite):
    url = migrated_sqlite("purge.db")
    now = datetime.now(timezone.utc)
    log = GapLog(make_engine(url), clock=Clock(now - 40 * DAY))
    log.record(
        question="call me on 13800138000",
        reply_kind="fallback",
        topic=None,
        sections=[],
        language="en",
    )
    log.feedback(ref(), helpful=False)  # a rating and a gap
    log.clock.now = now - DAY
    log.feedback(ref(), helpful=True)
    log.engine.dispose()

    dry = run_purge(url, "--older-than", "30d", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert (
        "Would remove 2 policy gap entries (masked unanswered questions) and 1 answer "
        "rating." in dry.stdout
    )
    assert "13800138000" not in dry.stdout + dry.stderr
    done = run_purge(url, "--older-than", "30d")
    assert done.returncode == 0, done.stderr
    assert (
        "Removed 2 policy gap entries (masked unanswered questions) and 1 answer rating."
        in done.stdout
    )
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(PolicyGap)).scalar() == 0
        assert connection.execute(select(func.count()).select_from(AnswerFeedback)).scalar() == 1
    engine.dispose()


# -- the migration --------------------------------------------------------------------------------


def alembic_config(url):
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def tables(url):
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_migration_creates_and_drops_the_tables(database_url):
    from alembic import command

    assert {"policy_gaps", "answer_feedback"} <= tables(database_url)  # at head
    engine = make_engine(database_url)
    columns = {c["name"] for c in inspect(engine).get_columns("policy_gaps")}
    indexes = {tuple(i["column_names"]) for i in inspect(engine).get_indexes("policy_gaps")}
    engine.dispose()
    assert columns == {
        "id",
        "reply_kind",
        "topic",
        "sections",
        "language",
        "question",
        "created_at",
    }
    assert ("created_at",) in indexes and ("topic",) in indexes
    command.downgrade(alembic_config(database_url), "0003")
    left = tables(database_url)
    assert "policy_gaps" not in left and "answer_feedback" not in left
    assert "privacy_requests" in left  # the rest of the database is untouched
    upgrade(database_url)
    assert {"policy_gaps", "answer_feedback"} <= tables(database_url)
    log = GapLog(make_engine(database_url))
    log.record(question="q", reply_kind="closest", topic=None, sections=["storage"], language="en")
    assert log.report().total == 1
    log.engine.dispose()


def test_names_for_the_staff_pages_in_both_languages():
    from bot.policy.gaps import section_headings, topic_names

    assert section_headings()["storage"] == "Transmission and storage of personal data"
    assert section_headings("zh")["storage"] == (
        "Transmission and storage of personal data（个人数据的传输和存储）"
    )
    assert topic_names()["location"] == "location data"
    assert topic_names("zh")["location"] == "位置信息"
