"""The soak's parts that need no stack: what it counts and its verdict from recorded outcomes,
its plan of faults, how a visitor reads the assistant's replies and carries on through an
apology and "Try again" (against a stand-in for the web app), and each fault made on a process
and a database of the test's own."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from typing import Dict, List

import httpx
import pytest
from sqlalchemy.engine import make_url

from bot.conversation import faults
from bot.core.settings import load_settings
from bot.core.texts import text
from bot.devtools import injection
from bot.devtools import soak as soak_module
from bot.devtools.soak import Planned, Soak, make_request, plan
from bot.devtools.soak_counts import (
    Answer,
    Fault,
    Outcome,
    caught_in,
    recovery_after,
    tally,
    verdict,
)
from bot.devtools.soak_script import SCRIPTS, Step, cue, pick_kind, read
from bot.devtools.stack import is_healthy
from bot.requests.references import PREFIXES

# -- counting and the verdict ---------------------------------------------------------------------


def outcome(n: int, reference=None, told=0, **more) -> Outcome:
    return Outcome("deletion", f"soak-run-{n}@example.com", reference, told, **more)


def test_every_request_announced_once_and_stored_once_is_ok():
    outcomes = [outcome(0, "DEL-AAAAAA"), outcome(1, "DEL-BBBBBB", told=2)]
    rows = {"soak-run-0@example.com": ["DEL-AAAAAA"], "soak-run-1@example.com": ["DEL-BBBBBB"]}
    result = tally(outcomes, rows)
    assert (result.started, result.stored, result.announced) == (2, 2, 2)
    assert (result.duplicates, result.lost, result.told_to_retry) == (0, 0, 2)
    assert (result.requests_told, result.recovered, result.unresolved) == (1, 1, 0)
    assert result.ok and verdict(result).startswith("OK")


def test_two_rows_for_one_request_are_a_duplicate():
    rows = {"soak-run-0@example.com": ["DEL-AAAAAA", "DEL-CCCCCC"]}
    result = tally([outcome(0, "DEL-AAAAAA", told=1)], rows)
    assert result.duplicates == 1 and result.stored == 2 and result.lost == 0
    assert not result.ok and "1 duplicates" in verdict(result)


def test_a_reference_announced_but_not_stored_is_lost():
    result = tally([outcome(0, "DEL-AAAAAA")], {})
    assert result.lost == 1 and result.lost_detail == ["DEL-AAAAAA announced, not stored"]
    assert not result.ok


def test_a_reference_announced_that_is_not_the_stored_one_is_lost():
    result = tally([outcome(0, "DEL-AAAAAA")], {"soak-run-0@example.com": ["DEL-BBBBBB"]})
    assert result.lost == 1 and not result.ok


def test_a_row_stored_behind_the_visitors_back_is_lost():
    """Stored, yet the visitor was given no reference and never told to try again."""
    rows = {"soak-run-0@example.com": ["DEL-AAAAAA"]}
    result = tally([outcome(0, errors=1, untold_errors=1)], rows)
    assert result.lost == 1 and "never told" in result.lost_detail[0]


def test_a_row_for_an_address_no_visitor_used_is_lost():
    result = tally([], {"soak-run-9@example.com": ["DEL-AAAAAA"]})
    assert result.lost == 1 and result.stored == 1 and not result.ok


def test_told_to_retry_and_stored_without_the_reference_seen_is_recovered_not_lost():
    """The late row a retry would have announced, had time not run out: told, so not lost."""
    rows = {"soak-run-0@example.com": ["DEL-AAAAAA"]}
    result = tally([outcome(0, told=3, cut_off=True)], rows)
    assert (result.lost, result.recovered, result.unresolved) == (0, 1, 0)
    assert result.ok


def test_told_to_retry_and_never_stored_is_unresolved():
    result = tally([outcome(0, told=4)], {})
    assert result.unresolved == 1 and result.requests_told == 1 and not result.ok
    assert "told to retry but never stored" in verdict(result)


def test_a_request_that_ends_with_nothing_and_no_word_is_untold():
    result = tally([outcome(0, abandoned=True)], {})
    assert (result.untold, result.abandoned, result.lost) == (1, 1, 0)
    assert not result.ok and "never told" in verdict(result)


def test_an_unanswered_message_fails_the_soak_even_when_the_request_got_through():
    result = tally(
        [outcome(0, "DEL-AAAAAA", errors=2, untold_errors=1)],
        {"soak-run-0@example.com": ["DEL-AAAAAA"]},
    )
    assert result.errors == 2 and result.untold_errors == 1 and not result.ok


def test_an_error_the_visitor_was_told_of_does_not_fail_the_soak():
    """The web app's "can't reach the assistant, try again" is an error, and a told one."""
    result = tally([outcome(0, "DEL-AAAAAA", errors=1)], {"soak-run-0@example.com": ["DEL-AAAAAA"]})
    assert result.errors == 1 and result.ok


def test_the_figures_are_plain_json():
    figures = tally([outcome(0, "DEL-AAAAAA")], {"soak-run-0@example.com": ["DEL-AAAAAA"]})
    assert json.loads(json.dumps(figures.as_dict()))["ok"] is True


def test_recovery_is_the_first_good_answer_to_a_message_sent_after_the_fault_ended():
    answers = [
        Answer(sent=9.0, received=12.5, ok=True),  # sent before the end: not counted
        Answer(sent=10.5, received=11.0, ok=False),  # an apology
        Answer(sent=11.0, received=14.0, ok=True),
        Answer(sent=12.0, received=13.2, ok=True),
    ]
    assert recovery_after(10.0, answers) == pytest.approx(3.2)
    assert recovery_after(20.0, answers) is None


def test_the_requests_a_fault_caught_half_way_and_those_that_carried_on():
    fault = Fault("kill", started=10.0, ended=10.0)
    outcomes = [
        outcome(0, "DEL-AAAAAA", began=2.0, ended=9.0),  # over before the fault
        outcome(1, "DEL-BBBBBB", began=8.0, ended=15.0),  # caught, finished
        outcome(2, told=2, began=9.0, ended=30.0),  # caught, stored, reference never seen
        outcome(3, told=5, began=9.5),  # caught, still going at the end, nothing stored
        outcome(4, "DEL-CCCCCC", began=11.0, ended=14.0),  # begun after the fault
    ]
    rows = {"soak-run-2@example.com": ["DEL-DDDDDD"]}
    assert caught_in(fault, outcomes, rows) == (3, 2)


# -- the plan of faults ---------------------------------------------------------------------------


def test_the_faults_come_in_order_apart_and_end_before_the_last_quarter():
    planned = plan(120, ["kill", "hang", "lock"])
    assert [p.kind for p in planned] == ["kill", "hang", "lock"]
    assert planned[0].at >= 0.15 * 120
    for before, after in zip(planned, planned[1:], strict=False):
        assert after.at >= before.at + before.duration + soak_module.GAP
    assert planned[-1].at + planned[-1].duration <= 0.85 * 120
    assert 15 <= planned[1].duration <= 20 and planned[2].duration == pytest.approx(10)


def test_a_plan_that_does_not_fit_the_time_is_refused():
    with pytest.raises(ValueError, match="need more time"):
        plan(60, ["kill", "hang", "lock"])
    assert plan(45, ["kill"])[0].at < 45 and plan(30, []) == []


def test_the_command_refuses_a_fault_it_does_not_know(capsys):
    with pytest.raises(SystemExit) as done:
        soak_module.main(["--faults", "kill,flood"])
    assert done.value.code == 2 and "--faults" in capsys.readouterr().err


# -- reading the replies ------------------------------------------------------------------------


def said(*texts: str, buttons=None) -> List[Dict]:
    messages: List[Dict] = [{"text": t} for t in texts]
    if buttons:
        messages[-1]["buttons"] = buttons
    return messages


@pytest.mark.parametrize(
    "key, values, slot",
    [
        ("flow.account_email_question", {}, "account_email"),
        ("flow.question.deletion_scope.text", {}, "deletion_scope"),
        ("flow.question.request_reason.text", {}, "request_reason"),
        ("request.suspension.reason_question", {}, "request_reason"),
        ("flow.question.correction_item.text", {}, "correction_item"),
        ("flow.ask_correction_value.item", {"label": "phone number"}, "correction_value"),
        ("flow.question.correction_note.text", {}, "correction_note"),
        ("flow.confirm.text", {"summary": "Request: deletion", "after": ""}, "confirm_request"),
        ("flow.code.sent", {"email": "a@example.com"}, "verification_code"),
        ("flow.code.wrong.other", {"attempts": 2}, "verification_code"),
        ("flow.explain_again", {"purpose": "{purpose}"}, None),
    ],
)
def test_a_question_is_known_by_its_catalogue_wording(key, values, slot):
    if slot is None:  # "what I need here is <the slot's purpose>"
        reply = text(key, purpose=text("flow.slot_purpose.account_email"))
        slot = "account_email"
    else:
        reply = text(key, **values)
    assert read("deletion", said(reply)) == Step("answer", slot=slot)


def test_the_question_asked_last_is_the_one_answered():
    reply = said(
        "That doesn't look like an e-mail address.", text("flow.question.deletion_scope.text")
    )
    assert read("deletion", reply).slot == "deletion_scope"
    intro_then_question = said("I can take this request here.", text("flow.account_email_question"))
    assert read("deletion", intro_then_question).slot == "account_email"


def test_an_apology_with_try_again_is_retried_and_a_reference_ends_the_request():
    apology = said(faults.not_saved(), buttons=[faults.retry_button()])
    assert read("deletion", apology) == Step("retry")
    stored = said("Thank you. Your deletion request is stored with reference DEL-7K3M9Q.")
    assert read("deletion", stored) == Step("done", reference="DEL-7K3M9Q")
    assert read("correction", stored).what != "done"  # another kind's reference


def test_asked_to_send_the_message_again_it_does_and_a_reply_it_cannot_follow_is_lost():
    assert read("deletion", said(text("fault.send_again"))) == Step("again")
    assert read("deletion", said(text("fault.nothing_pending"))) == Step("again")
    assert read("deletion", said("Here is a poem about clouds.")) == Step("lost")


def test_the_cue_of_a_text_is_its_longest_part_without_a_placeholder():
    assert cue("flow.ask_correction_value.item") == "What is the correct"
    assert cue("fault.send_again") == text("fault.send_again")


def test_mostly_deletions_some_corrections_and_suspensions():
    kinds = [pick_kind(i / 100) for i in range(100)]
    assert kinds.count("deletion") == 70
    assert kinds.count("correction") == kinds.count("suspension") == 15


# -- one visitor against a stand-in for the web app ------------------------------------------------


class FakeSite:
    """The web chat, scripted: the action server fails while the scope is answered and again
    when the code is checked; the page's "Try again" payload brings it back. Also one 503 (the
    web app's own apology) and one dropped connection."""

    def __init__(self) -> None:
        self.heard: List[str] = []
        self.cookies: List[str] = []
        self.failures = {"the whole account": 1, "123456": 1}
        self.glitches = {"skip": ["503", "drop"]}
        self.after_retry = text("fault.send_again")
        self.pending_store = False

    def reply(self, message: str) -> List[Dict]:
        if message == "/retry":
            if self.pending_store:
                return said(
                    text(
                        "flow.submitted.stored",
                        kind="deletion",
                        reference="DEL-7K3M9Q",
                        due="1 January",
                        working_days=15,
                    )
                )
            return said(self.after_retry)
        if self.failures.get(message):
            self.failures[message] -= 1
            self.pending_store = message == "123456"
            failure = faults.not_saved() if self.pending_store else faults.not_done()
            return said(failure, buttons=[faults.retry_button()])
        answers = {
            SCRIPTS["deletion"][0]: text("flow.account_email_question"),
            "the whole account": text("flow.question.request_reason.text"),
            "skip": text("flow.confirm.text", summary="Request: deletion", after=""),
            "yes": text("flow.code.sent", email="x@example.com"),
        }
        if "@" in message:
            return said(text("flow.question.deletion_scope.text"))
        return said(answers[message])

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert request.url.path == "/api/chat" and body["sender"].startswith("soak-")
        self.cookies.append(request.headers.get("cookie", ""))
        message = body["message"]
        self.heard.append(message)
        glitch = self.glitches.get(message)
        if glitch:
            kind = glitch.pop(0)
            if not glitch:
                del self.glitches[message]
            if kind == "drop":
                raise httpx.ConnectError("connection refused", request=request)
            return httpx.Response(503, json={"messages": [{"text": text("web.unreachable")}]})
        return httpx.Response(
            200, json={"messages": self.reply(message)}, headers={"set-cookie": "vp_chat=one"}
        )


def test_a_visitor_carries_on_through_apologies_and_errors_to_the_reference(monkeypatch):
    monkeypatch.setattr(soak_module, "PAUSE", 0.0)
    monkeypatch.setattr(soak_module, "latest_code", lambda email: "123456")
    site = FakeSite()
    soak = Soak(settings=None, seconds=60, drain=30)  # type: ignore[arg-type]

    done = asyncio.run(
        make_request(soak, "deletion", "http://web.test", httpx.MockTransport(site.handle))
    )

    assert done.reference == "DEL-7K3M9Q" and done.email == f"soak-{soak.run_id}-0@example.com"
    assert done.told_to_retry == 2
    assert (done.errors, done.untold_errors) == (2, 1)  # the 503 was told, the drop was not
    assert site.heard == [
        SCRIPTS["deletion"][0],
        done.email,
        "the whole account",  # the action server fails
        "/retry",  # "Try again": "could you send your last message again?"
        "the whole account",
        "skip",  # 503
        "skip",  # dropped
        "skip",
        "yes",
        "123456",  # not saved
        "/retry",  # stored
    ]
    assert site.cookies[0] == "" and set(site.cookies[1:]) == {"vp_chat=one"}  # its own jar
    assert soak.outcomes == [done] and len(soak.answers) == len(site.heard)
    assert [a.ok for a in soak.answers].count(False) == 4  # two apologies, two errors


def test_a_visitor_gives_up_on_a_reply_it_cannot_follow_and_says_so(monkeypatch):
    monkeypatch.setattr(soak_module, "PAUSE", 0.0)

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"messages": [{"text": "Write to x@example.com."}]})

    soak = Soak(settings=None, seconds=60, drain=30)  # type: ignore[arg-type]
    done = asyncio.run(
        make_request(soak, "suspension", "http://web.test", httpx.MockTransport(handle))
    )
    assert done.abandoned and done.reference is None and done.messages == 1
    assert soak.unexpected and "x@example.com" not in soak.unexpected[0]  # masked


def test_a_visitor_still_waiting_when_time_is_up_is_cut_off(monkeypatch):
    monkeypatch.setattr(soak_module, "PAUSE", 0.0)

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"messages": said(faults.not_done(), buttons=[faults.retry_button()])}
        )

    soak = Soak(settings=None, seconds=0.05, drain=0.05)  # type: ignore[arg-type]
    done = asyncio.run(
        make_request(soak, "deletion", "http://web.test", httpx.MockTransport(handle))
    )
    assert done.cut_off and done.told_to_retry >= 1 and done.reference is None
    assert tally([done], {}).unresolved == 1


# -- the faults, made on processes and a database of the test's own -------------------------------

SERVER = """
import http.server, sys
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Ok).serve_forever()
"""


@pytest.fixture
def server():
    """A stand-in action server on a free port: (process, port), answering 200 once up."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    deadline = time.monotonic() + 10
    while not is_healthy(f"http://127.0.0.1:{port}/health", 0.5):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    yield process, port
    if process.poll() is None:
        process.kill()
        process.wait()


def test_kill_leaves_nothing_on_the_port(server):
    process, port = server
    soak = Soak(settings=None, seconds=60, drain=30)  # type: ignore[arg-type]
    fault = asyncio.run(soak_module.apply(soak, Planned("kill", 0, 0), port))
    assert not fault.skipped and fault.ended == fault.started
    assert process.wait(timeout=5) == -9 and injection.pids_listening_on(port) == []
    again = asyncio.run(soak_module.apply(soak, Planned("kill", 0, 0), port))
    assert again.skipped and "nothing listens" in again.detail


def test_a_hang_answers_nothing_for_its_time_then_the_server_answers_again(server):
    process, port = server
    soak = Soak(settings=None, seconds=60, drain=30)  # type: ignore[arg-type]

    async def hang_and_ask():
        task = asyncio.create_task(soak_module.apply(soak, Planned("hang", 0, 1.5), port))
        await asyncio.sleep(0.5)
        during = await asyncio.to_thread(is_healthy, f"http://127.0.0.1:{port}/", 0.5)
        return during, await task

    during, fault = asyncio.run(hang_and_ask())
    assert not during and fault.ended - fault.started == pytest.approx(1.5, abs=0.5)
    assert "SIGCONT" in fault.detail and process.poll() is None
    assert is_healthy(f"http://127.0.0.1:{port}/", 2.0)


def test_a_lock_holds_the_request_database_for_its_time(set_env, migrated_sqlite):
    url = migrated_sqlite()
    set_env(DATABASE_URL=url)
    soak = Soak(settings=None, seconds=60, drain=30)  # type: ignore[arg-type]

    async def lock_and_write():
        task = asyncio.create_task(soak_module.apply(soak, Planned("lock", 0, 1.0), 0))
        await asyncio.sleep(0.4)
        writer = sqlite3.connect(make_url(url).database, timeout=0.1)
        try:
            writer.execute("CREATE TABLE scratch (x)")
            locked = False
        except sqlite3.OperationalError:
            locked = True
        finally:
            writer.close()
        return locked, await task

    locked, fault = asyncio.run(lock_and_write())
    assert locked and fault.kind == "lock" and not fault.skipped
    assert fault.ended - fault.started == pytest.approx(1.0, abs=0.3)
    sqlite3.connect(make_url(url).database).execute("CREATE TABLE scratch (x)").close()


# -- a whole soak, against stand-ins for the web app and the action server -----------------------

QUESTIONS = {
    "deletion": [
        ("flow.account_email_question", {}),
        ("flow.question.deletion_scope.text", {}),
        ("flow.question.request_reason.text", {}),
    ],
    "correction": [
        ("flow.account_email_question", {}),
        ("flow.question.correction_item.text", {}),
        ("flow.ask_correction_value.item", {"label": "phone number"}),
        ("flow.question.correction_note.text", {}),
    ],
    "suspension": [
        ("flow.account_email_question", {}),
        ("request.suspension.reason_question", {}),
    ],
}


class StandInStack:
    """The chat as the web app relays it, each conversation a form of its kind, every answer
    needing the action server (the `server` fixture's port): while nothing answers there, the
    reply is the apology with "Try again", and "Try again" then asks for the message again. The
    rows it stores are kept by address, as the request database would."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.chats: Dict[str, Dict] = {}
        self.rows: Dict[str, List[str]] = {}

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(200, json={"messages": self.reply(body["sender"], body["message"])})

    def reply(self, sender: str, message: str) -> List[Dict]:
        try:  # only whether it listens: the soak times the rest
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
        except OSError:
            return said(faults.not_done(), buttons=[faults.retry_button()])
        if message == "/retry":
            return said(text("fault.send_again"))
        if sender not in self.chats:
            kind = next(k for k, (opening, _) in SCRIPTS.items() if opening == message)
            self.chats[sender] = {"kind": kind, "step": 0, "email": None}
            return said(text(*QUESTIONS[kind][0][:1], **QUESTIONS[kind][0][1]))
        chat = self.chats[sender]
        kind, questions = chat["kind"], QUESTIONS[chat["kind"]]
        if "@" in message:
            chat["email"] = message
        chat["step"] += 1
        step = chat["step"]
        if step < len(questions):
            return said(text(questions[step][0], **questions[step][1]))
        if step == len(questions):
            return said(text("flow.confirm.text", summary="Request", after=""))
        if step == len(questions) + 1:
            return said(text("flow.code.sent", email="x"))
        reference = f"{PREFIXES[kind]}-{len(self.rows):06d}".replace("0", "A")
        self.rows.setdefault(chat["email"], []).append(reference)
        return said(f"Your {kind} request is stored with reference {reference}.")


def test_a_whole_soak_with_a_kill_and_a_server_that_comes_back(server, monkeypatch):
    process, port = server
    monkeypatch.setattr(soak_module, "PAUSE", 0.05)
    monkeypatch.setattr(soak_module, "HEALTH_WAIT", 5.0)
    monkeypatch.setattr(soak_module, "latest_code", lambda email: "123456")
    stand_in = StandInStack(port)
    settings = replace(
        load_settings(),
        action_port=port,
        action_server_url=f"http://127.0.0.1:{port}",
        web_url="http://web.test",
    )
    soak = Soak(settings, seconds=3.0, drain=5.0)
    soak.transport = httpx.MockTransport(stand_in.handle)
    restarted: List[subprocess.Popen] = []

    def supervise():  # what `python -m bot run` does for a server that dies
        process.wait()
        time.sleep(0.5)
        restarted.append(subprocess.Popen([sys.executable, "-c", SERVER, str(port)]))

    supervisor = threading.Thread(target=supervise, daemon=True)
    supervisor.start()
    try:
        asyncio.run(soak_module.soak_run(soak, 2, [Planned("kill", 1.0, 0)], 7, None))
        result = soak_module.count(soak, stand_in.rows)
    finally:
        supervisor.join(timeout=10)
        for extra in restarted:
            extra.kill()
            extra.wait()

    [kill] = soak.faults
    assert kill.kind == "kill" and not kill.skipped and kill.started >= 1.0
    assert kill.healthy_after is not None and kill.healthy_after < 5
    # the stand-in supervisor waits half a second before it starts the server again
    assert kill.recovered_after is not None and kill.recovered_after >= 0.4
    assert kill.under_way >= 1 and kill.carried_on == kill.under_way  # where they were
    assert result.started >= 2 and result.requests_told >= 1
    assert result.lost == result.duplicates == result.unresolved == result.untold == 0
    assert result.stored == result.announced == result.started and result.ok
    report = soak_module.report(soak, result, 2, started_here=False)
    assert "kill" in report and "lost 0" in report and report.endswith(verdict(result))
    figures = soak_module.figures(soak, result, 2, started_here=False)
    assert "@" not in json.dumps(figures)  # no address in what is written out


def test_a_soak_whose_action_server_never_comes_back_fails(server, monkeypatch):
    process, port = server
    monkeypatch.setattr(soak_module, "PAUSE", 0.05)
    monkeypatch.setattr(soak_module, "HEALTH_WAIT", 1.0)
    monkeypatch.setattr(soak_module, "latest_code", lambda email: "123456")
    stand_in = StandInStack(port)
    settings = replace(
        load_settings(), action_port=port, action_server_url=f"http://127.0.0.1:{port}"
    )
    soak = Soak(settings, seconds=2.0, drain=1.0)
    soak.transport = httpx.MockTransport(stand_in.handle)

    asyncio.run(soak_module.soak_run(soak, 2, [Planned("kill", 0.5, 0)], 7, None))
    result = soak_module.count(soak, stand_in.rows)

    [kill] = soak.faults
    assert kill.healthy_after is None and kill.recovered_after is None
    assert kill.under_way >= 1 and kill.carried_on == 0
    assert result.unresolved >= 1 and not result.ok
    assert "no /health, no good answer" in soak_module.fault_line(kill)
    assert soak_module.report(soak, result, 2, started_here=True).endswith(verdict(result))
    assert verdict(result).startswith("FAILED")
