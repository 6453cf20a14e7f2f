"""`make soak`: visitors make privacy requests through the web chat while, from outside, the action
server is killed, then hung, and the request database is locked; then the rows are counted.

The stack is the one `python -m bot run` starts (the supervisor an operator runs, which is to
restart what dies), started here in a subprocess unless one is already running, which is then
used as it is. Each visitor has a cookie jar of its own and opens a new conversation for each
request, with an e-mail address of its own (`soak-<run>-<n>@example.com`), so that the rows can
be counted: it answers the form as the replies ask (bot.devtools.soak_script), reads its code
from the outbox, and presses "Try again" whenever it is offered, until it works or time is up.
The faults are spread over the first three quarters of the time; after it, no request is begun
and those under way get a while to finish. Then bot.devtools.soak_counts counts what was
started, stored, announced, duplicated and lost, and the time from each fault's end to the
first good answer. Exit status 1 unless nothing was lost or stored twice and every failure was
told and then retried with success; 2 when it could not run at all.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import httpx
from sqlalchemy import select

from bot.core.masking import mask_pii
from bot.core.paths import ROOT, VAR_DIR
from bot.core.settings import Settings
from bot.devtools import injection
from bot.devtools.bench import latest_code, write_json
from bot.devtools.soak_counts import (
    Answer,
    Fault,
    Outcome,
    Tally,
    caught_in,
    recovery_after,
    tally,
    verdict,
)
from bot.devtools.soak_script import CODE, LANGUAGE, SCRIPTS, answer_for, pick_kind, read
from bot.devtools.soak_script import retry_payload as retry_message
from bot.devtools.stack import Stack, child_environment, is_healthy
from bot.storage.db import make_engine, session_factory, transaction
from bot.storage.models import PrivacyRequest

LOG_DIR = VAR_DIR / "soak"
FAULTS = ("kill", "hang", "lock")
DURATION = {"kill": 0.0, "hang": 18.0, "lock": 10.0}  # seconds each fault lasts
FIRST_FAULT = 0.15  # of the time: the visitors are under way
LAST_FAULT_END = 0.85  # of the time: the last fault is over, with time left to see recovery
GAP = 15.0  # seconds at least between one fault's end and the next one's start
DRAIN = 45.0  # seconds the requests under way get after the time is up
CLIENT_TIMEOUT = 60.0  # the web app gives up on Rasa after 30 s
PAUSE = 2.0  # seconds before "Try again", or before sending a message that failed again
MAX_ANSWERS = 30  # answers in one request before the visitor gives up (retries not counted)
READY_WAIT = 30.0  # seconds a fault waits for the action server to be healthy, else is skipped
HEALTH_WAIT = 90.0  # seconds after a fault in which the action server's return is timed
STACK_START_TIMEOUT = 300.0
STACK_STOP_TIMEOUT = 60.0


# -- the plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    kind: str
    at: float  # seconds from the start
    duration: float


def plan(seconds: float, kinds: Sequence[str]) -> List[Planned]:
    """Faults in order, each in its share of the time from FIRST_FAULT on and GAP after the one
    before; ValueError when they do not end by LAST_FAULT_END of `seconds`."""
    if not kinds:
        return []
    first, span = FIRST_FAULT * seconds, (LAST_FAULT_END - FIRST_FAULT) * seconds
    planned: List[Planned] = []
    free_from = first
    for index, kind in enumerate(kinds):
        at = max(first + index * span / len(kinds), free_from)
        planned.append(Planned(kind, round(at, 1), DURATION[kind]))
        free_from = at + DURATION[kind] + GAP
    end = planned[-1].at + planned[-1].duration
    if end > LAST_FAULT_END * seconds:
        raise ValueError(
            f"{', '.join(kinds)} need more time than {seconds:.0f} s: the last would end at "
            f"{end:.0f} s, after {LAST_FAULT_END:.0%} of it"
        )
    return planned


# -- one soak's shared record ---------------------------------------------------------------------


@dataclass
class Soak:
    settings: Settings
    seconds: float
    drain: float
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    t0: float = field(default_factory=time.monotonic)
    outcomes: List[Outcome] = field(default_factory=list)
    answers: List[Answer] = field(default_factory=list)
    faults: List[Fault] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)  # replies no visitor could follow
    stopped: Optional[str] = None  # why the soak ended early
    transport: Optional[httpx.AsyncBaseTransport] = None  # a stand-in for the web app (tests)
    numbers: itertools.count[int] = field(default_factory=itertools.count)

    def now(self) -> float:
        return time.monotonic() - self.t0

    @property
    def deadline(self) -> float:
        return self.seconds

    @property
    def last_call(self) -> float:
        return self.seconds + self.drain

    def email(self) -> str:
        return f"soak-{self.run_id}-{next(self.numbers)}@example.com"


# -- a visitor ----------------------------------------------------------------------------------


class Chat:
    """One conversation through POST /api/chat, with a cookie jar of its own. The body also
    carries a `sender`, random, for a web app that takes the conversation from the body."""

    def __init__(self, client: httpx.AsyncClient, soak: Soak, outcome: Outcome) -> None:
        self.client, self.soak, self.outcome = client, soak, outcome
        self.sender = f"soak-{uuid.uuid4().hex}"

    async def say(self, message: str) -> Optional[List[Mapping[str, Any]]]:
        """The assistant's messages, or None when the visitor got none to read (an error)."""
        sent = self.soak.now()
        self.outcome.messages += 1
        told = False
        messages: Optional[List[Mapping[str, Any]]] = None
        try:
            response = await self.client.post(
                "/api/chat",
                json={"sender": self.sender, "message": message, "language": LANGUAGE},
            )
            body = response.json()
            given = body.get("messages") if isinstance(body, dict) else None
            readable: List[Mapping[str, Any]] = (
                [m for m in given if isinstance(m, dict)] if isinstance(given, list) else []
            )
            told = any(m.get("text") for m in readable)
            if response.status_code == 200 and told:
                messages = readable
        except (httpx.HTTPError, ValueError):
            pass
        if messages is None:
            self.outcome.errors += 1
            self.outcome.untold_errors += not told
        ok = messages is not None and read(self.outcome.kind, messages).what != "retry"
        self.soak.answers.append(Answer(sent, self.soak.now(), ok))
        return messages


async def make_request(
    soak: Soak, kind: str, web_url: str, transport: Optional[httpx.AsyncBaseTransport] = None
) -> Outcome:
    """One request from its opening line to its reference, or until the visitor gives up or
    time is up. `transport`: a stand-in for the web app (tests), else the soak's."""
    outcome = Outcome(kind=kind, email=soak.email(), began=soak.now())
    soak.outcomes.append(outcome)
    try:
        await converse(soak, outcome, web_url, transport)
    finally:
        outcome.ended = soak.now()
    return outcome


async def converse(
    soak: Soak,
    outcome: Outcome,
    web_url: str,
    transport: Optional[httpx.AsyncBaseTransport],
) -> None:
    """Say what each reply asks for; "Try again" when offered; the same message again after an
    error, or when asked to send it again."""
    kind = outcome.kind
    opening = SCRIPTS[kind][0]
    async with httpx.AsyncClient(
        base_url=web_url, timeout=CLIENT_TIMEOUT, transport=transport or soak.transport
    ) as client:
        chat = Chat(client, soak, outcome)
        message = last = opening
        answered = 0
        while True:
            if soak.stopped or soak.now() > soak.last_call:
                outcome.cut_off = True
                return
            messages = await chat.say(message)
            if messages is None:
                await asyncio.sleep(PAUSE)  # and send it again, as a person would
                continue
            step = read(kind, messages)
            if step.what == "done":
                outcome.reference = step.reference
                return
            if step.what == "retry":
                outcome.told_to_retry += 1
                await asyncio.sleep(PAUSE * random.uniform(0.5, 1.5))
                message = retry_message()
                continue
            if step.what == "again":
                message = last
                continue
            answer = None if step.slot is None else answer_for(kind, step.slot, outcome.email)
            if step.slot == CODE:
                answer = await asyncio.to_thread(latest_code, outcome.email) or "000000"
            answered += 1
            if answer is None or answered > MAX_ANSWERS:
                outcome.abandoned = True
                text = "\n".join(str(m.get("text", "")) for m in messages)
                soak.unexpected.append(mask_pii(text)[:300])
                return
            message = last = answer


async def visitor(soak: Soak, web_url: str, rng: random.Random) -> None:
    while soak.now() < soak.deadline and not soak.stopped:
        await make_request(soak, pick_kind(rng.random()), web_url)


# -- the faults ---------------------------------------------------------------------------------


async def wait_until(soak: Soak, moment: float) -> None:
    while soak.now() < moment and not soak.stopped:
        await asyncio.sleep(min(0.5, moment - soak.now()))


async def healthy_within(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await asyncio.to_thread(is_healthy, url, 1.0):
            return True
        await asyncio.sleep(0.25)
    return False


async def time_to_health(soak: Soak, fault: Fault, url: str) -> None:
    if await healthy_within(url, HEALTH_WAIT):
        fault.healthy_after = round(soak.now() - fault.ended, 1)


async def apply(soak: Soak, planned: Planned, port: int) -> Fault:
    started = soak.now()
    if planned.kind == "lock":
        lock = injection.DatabaseLock()
        await asyncio.to_thread(lock.acquire)
        started = soak.now()
        try:
            await asyncio.sleep(planned.duration)
        finally:
            await asyncio.to_thread(lock.release)
        return Fault("lock", started, soak.now(), "request database locked")
    pids = await asyncio.to_thread(injection.pids_listening_on, port)
    if not pids:
        return Fault(planned.kind, started, started, f"nothing listens on :{port}", skipped=True)
    if planned.kind == "kill":
        injection.kill(pids)
        gone_by = time.monotonic() + 5
        while any(injection.alive(pid) for pid in pids) and time.monotonic() < gone_by:
            await asyncio.sleep(0.01)
        # From its death (finding it took a while, and a dying server may still answer): what
        # comes back after this is the supervisor's doing.
        dead = soak.now()
        return Fault("kill", dead, dead, f"SIGKILL to {len(pids)} process(es) on :{port}")
    injection.freeze(pids)
    started = soak.now()
    detail = f"SIGSTOP to {len(pids)} process(es) on :{port}"
    try:
        until = started + planned.duration
        while soak.now() < until and any(injection.alive(pid) for pid in pids):
            await asyncio.sleep(0.25)
    finally:
        injection.thaw(pids)
    if not any(injection.alive(pid) for pid in pids):
        detail += ", killed by the supervisor"
    else:
        detail += ", then SIGCONT"
    return Fault("hang", started, soak.now(), detail)


async def inject(soak: Soak, planned_faults: Sequence[Planned]) -> None:
    health = f"{soak.settings.action_server_url}/health"
    port = soak.settings.action_port
    for planned in planned_faults:
        await wait_until(soak, planned.at)
        if soak.stopped:
            return
        if not await healthy_within(health, READY_WAIT):
            now = soak.now()
            soak.faults.append(
                Fault(planned.kind, now, now, "the action server was not healthy", skipped=True)
            )
            continue
        fault = await apply(soak, planned, port)
        soak.faults.append(fault)
        if not fault.skipped and planned.kind != "lock":
            await time_to_health(soak, fault, health)


async def watch(soak: Soak, supervisor: Optional[subprocess.Popen]) -> None:
    """The soak ends early if the supervisor it started exits: nothing would come back."""
    while supervisor is not None and soak.now() < soak.last_call and not soak.stopped:
        code = supervisor.poll()
        if code is not None:
            soak.stopped = f"`python -m bot run` exited with code {code} at {soak.now():.0f} s"
            return
        await asyncio.sleep(0.5)


async def soak_run(
    soak: Soak,
    visitors: int,
    planned_faults: Sequence[Planned],
    seed: int,
    supervisor: Optional[subprocess.Popen],
) -> None:
    rng = random.Random(seed)
    soak.t0 = time.monotonic()
    watcher = asyncio.create_task(watch(soak, supervisor))
    await asyncio.gather(
        inject(soak, planned_faults),
        *(
            visitor(soak, soak.settings.web_url, random.Random(rng.random()))
            for _ in range(visitors)
        ),
    )
    watcher.cancel()


# -- the stack ----------------------------------------------------------------------------------


def start_stack(stack: Stack) -> subprocess.Popen:
    """`python -m bot run`, its output in var/soak/stack.log; returns once all three answer."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = open(LOG_DIR / "stack.log", "a", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=child_environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + STACK_START_TIMEOUT
    while not stack.all_healthy():
        if process.poll() is not None:
            raise RuntimeError(f"`python -m bot run` exited with code {process.returncode}")
        if time.monotonic() > deadline:
            stop_stack(process)
            raise TimeoutError(f"the stack was not up after {STACK_START_TIMEOUT:.0f} s")
        time.sleep(1)
    return process


def stop_stack(process: subprocess.Popen) -> None:
    """SIGTERM, as Ctrl-C in `make run`: the supervisor stops its servers, then itself."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STACK_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            injection.send([process.pid], signal.SIGKILL)
            process.wait()


# -- counting and printing ------------------------------------------------------------------------


def stored_rows(run_id: str) -> Dict[str, List[str]]:
    """The references stored for each of this soak's e-mail addresses."""
    engine = make_engine()
    try:
        with transaction(session_factory(engine)) as session:
            found = session.execute(
                select(PrivacyRequest.email, PrivacyRequest.reference).where(
                    PrivacyRequest.email.like(f"soak-{run_id}-%@example.com")
                )
            ).all()
    finally:
        engine.dispose()
    rows: Dict[str, List[str]] = {}
    for email, reference in found:
        rows.setdefault(email, []).append(reference)
    return rows


def count(soak: Soak, rows: Mapping[str, Sequence[str]]) -> Tally:
    """The figures, given the references stored for each of the soak's addresses; each fault
    gets its time to the first good answer."""
    for fault in soak.faults:
        if not fault.skipped:
            after = recovery_after(fault.ended, soak.answers)
            fault.recovered_after = None if after is None else round(after, 1)
            fault.under_way, fault.carried_on = caught_in(fault, soak.outcomes, rows)
        fault.started, fault.ended = round(fault.started, 1), round(fault.ended, 1)
    return tally(soak.outcomes, rows)


def fault_line(fault: Fault) -> str:
    when = (
        f"{fault.started:.1f} s"
        if fault.ended == fault.started
        else f"{fault.started:.1f}-{fault.ended:.1f} s"
    )
    if fault.skipped:
        return f"  {fault.kind:<5} at {when}: skipped ({fault.detail})"

    def after(what: str, value: Optional[float]) -> str:
        return f"no {what}" if value is None else f"{what} after {value:.1f} s"

    health = "" if fault.kind == "lock" else after("/health", fault.healthy_after) + ", "
    return (
        f"  {fault.kind:<5} at {when} ({fault.detail}): {health}"
        f"{after('good answer', fault.recovered_after)}; requests caught half-way "
        f"{fault.under_way}, carried on {fault.carried_on}"
    )


def report(soak: Soak, result: Tally, visitors: int, started_here: bool) -> str:
    stack = "started here" if started_here else "already running"
    lines = [
        f"Soak {soak.run_id}: {visitors} visitors, {soak.seconds:.0f} s, through "
        f"{soak.settings.web_url}/api/chat (stack {stack}); {len(soak.answers)} messages sent",
        "faults (seconds from the start; recovery from the fault's end):",
        *(fault_line(f) for f in soak.faults),
        f"started {result.started}, stored {result.stored}, announced {result.announced}, "
        f"duplicates {result.duplicates}, lost {result.lost}",
        f"told-to-retry {result.told_to_retry} (in {result.requests_told} requests: "
        f"{result.recovered} recovered, {result.unresolved} not), errors {result.errors} "
        f"({result.untold_errors} unanswered), never told {result.untold} "
        f"(abandoned {result.abandoned}, cut off {result.cut_off})",
    ]
    if soak.stopped:
        lines.append(f"stopped early: {soak.stopped}")
    lines += [f"  lost: {detail}" for detail in result.lost_detail[:10]]
    lines += [f"  unexpected reply: {text!r}" for text in soak.unexpected[:5]]
    lines.append(verdict(result))
    return "\n".join(lines)


def figures(soak: Soak, result: Tally, visitors: int, started_here: bool) -> Dict[str, Any]:
    return {
        "run": soak.run_id,
        "visitors": visitors,
        "seconds": soak.seconds,
        "stack_started_here": started_here,
        "stopped_early": soak.stopped,
        "messages": len(soak.answers),
        "faults": [asdict(f) for f in soak.faults],
        **result.as_dict(),
        "requests": [{k: v for k, v in asdict(o).items() if k != "email"} for o in soak.outcomes],
        "unexpected_replies": soak.unexpected,
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot soak", description=__doc__)
    parser.add_argument("--visitors", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument(
        "--faults",
        default=",".join(FAULTS),
        help=f"which faults, in order, comma-separated, from {', '.join(FAULTS)} "
        "('' for none; default all three)",
    )
    parser.add_argument(
        "--drain",
        type=float,
        default=DRAIN,
        help="seconds the requests under way get to finish after the time is up",
    )
    parser.add_argument("--seed", type=int, default=None, help="for the visitors' choices")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.faults.split(",") if k.strip()]
    if any(k not in FAULTS for k in kinds):
        parser.error(f"--faults takes {', '.join(FAULTS)}")
    if args.visitors < 1 or args.seconds <= 0 or args.drain < 0:
        parser.error("--visitors must be 1 or more, --seconds more than 0, --drain 0 or more")
    try:
        planned_faults = plan(args.seconds, kinds)
    except ValueError as problem:
        parser.error(str(problem))

    stack = Stack(echo=False)
    settings = stack.settings
    started_here = not stack.all_healthy()
    supervisor = None
    if started_here:
        if not settings.model_path.exists():
            print(
                f"==> No trained model at {settings.model_path}: `make run` trains it",
                file=sys.stderr,
            )
            return 2
        print(f"==> Starting the assistant with `python -m bot run` (log: {LOG_DIR / 'stack.log'})")
        try:
            supervisor = start_stack(stack)
        except (RuntimeError, TimeoutError) as problem:
            print(f"==> Could not start the assistant: {problem}", file=sys.stderr)
            return 2
    else:
        print(
            "==> The assistant is already running: its action server and request database "
            "get the faults"
        )
    soak = Soak(settings, args.seconds, args.drain)
    seed = random.randrange(2**32) if args.seed is None else args.seed
    print(
        f"==> Soak {soak.run_id}: {args.visitors} visitors, {args.seconds:.0f} s, seed {seed}, "
        "faults: " + (", ".join(f"{p.kind} at {p.at:.0f} s" for p in planned_faults) or "none")
    )
    try:
        asyncio.run(soak_run(soak, args.visitors, planned_faults, seed, supervisor))
    finally:
        if supervisor is not None:
            stop_stack(supervisor)
    result = count(soak, stored_rows(soak.run_id))
    print(report(soak, result, args.visitors, started_here))
    if args.json:
        write_json(args.json, figures(soak, result, args.visitors, started_here))
    return 0 if result.ok and not soak.stopped else 1
