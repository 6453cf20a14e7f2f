"""`make bench`: the assistant under load, beside a stock `rasa init` bot under the same load.

Drives N concurrent conversations through each bot's REST channel for a fixed time and prints
throughput, per-message latency (p50/p95/p99), errors, and the resident memory of every process.
Our mix is what the website sees: policy questions in English and in Chinese (Chinese goes
through jieba and the n-gram evidence, not the encoder's), a full deletion request with e-mail
verification (the code read from the outbox), and small talk in both languages; the stock bot
gets its own small talk at the same concurrency. A script that prints figures, not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import httpx
from sqlalchemy import select

from bot.core.paths import VAR_DIR
from bot.devtools.stack import BIN, WEB_APP, Stack, child_environment, is_healthy

STOCK_DIR = VAR_DIR / "bench" / "stock"
STOCK_PORT = 5015

POLICY_QUESTIONS = [
    "do you sell my personal data",
    "where is my data stored",
    "how do you protect my data",
    "what information do you collect",
    "can children use videopro",
    "who do I contact about privacy",
    "will you email me promotions",
    "what if the privacy policy changes",
    "how long do you keep my data",
    "is my name personal information",
]
# Our own Chinese questions (not from an evaluation set), some in Traditional or full-width form.
CHINESE_QUESTIONS = [
    "你们会出售我的个人信息吗",
    "我的资料保存在哪个国家",
    "你们怎么保护我的数据",
    "你们收集了我哪些信息",
    "小朋友能用这个软件吗",
    "隱私問題應該聯繫誰",
    "会给我发推广邮件吗",
    "隐私政策改了会通知我吗",
    "我的数据会保留多长时间",
    "名字算个人信息吗？",
]
SMALL_TALK = ["hello", "are you a bot?", "thanks"]
CHINESE_TALK = ["你好", "你是机器人吗？", "谢谢"]
STOCK_TALK = ["hello", "I am great", "bye"]


@dataclass
class Run:
    name: str
    latencies: List[float] = field(default_factory=list)
    errors: int = 0
    messages: int = 0
    elapsed: float = 0.0

    def summary(self) -> Dict[str, float]:
        ordered = sorted(self.latencies) or [0.0]

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

        return {
            "messages": self.messages,
            "errors": self.errors,
            "throughput": self.messages / self.elapsed if self.elapsed else 0.0,
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "p99_ms": pct(99),
        }


class Conversation:
    """One conversation through Rasa's REST channel, its id in the body."""

    def __init__(self, client: httpx.AsyncClient, url: str, run: Run) -> None:
        self.client, self.url, self.run = client, url, run
        self.sender = f"bench-{uuid.uuid4().hex}"

    def body(self, text: str) -> Dict[str, str]:
        return {"sender": self.sender, "message": text}

    @staticmethod
    def replies(payload: Any) -> List[Dict[str, Any]]:
        return payload

    async def say(self, text: str) -> str:
        started = time.perf_counter()
        try:
            response = await self.client.post(self.url, json=self.body(text))
            response.raise_for_status()
            reply = "\n".join(m.get("text", "") for m in self.replies(response.json()))
            if not reply:
                raise ValueError("empty reply")
        except (httpx.HTTPError, ValueError):
            self.run.errors += 1
            reply = ""
        self.run.latencies.append(time.perf_counter() - started)
        self.run.messages += 1
        return reply


class WebVisitor(Conversation):
    """A visitor of the website: messages go through the web app's chat relay, whose cookie
    names the conversation, as the page sends them."""

    def __init__(self, web_url: str, run: Run) -> None:
        super().__init__(httpx.AsyncClient(timeout=60), f"{web_url}/api/chat", run)

    def body(self, text: str) -> Dict[str, str]:
        return {"message": text, "language": "en"}

    @staticmethod
    def replies(payload: Any) -> List[Dict[str, Any]]:
        return payload.get("messages", [])


async def through_the_website(web_url: str, concurrency: int, seconds: float) -> Run:
    """`concurrency` visitors asking policy questions through the web app for `seconds`."""
    run = Run("web")
    deadline = time.perf_counter() + seconds

    async def visitor() -> None:
        while time.perf_counter() < deadline:
            page = WebVisitor(web_url, run)
            try:
                for question in random.sample(POLICY_QUESTIONS, 3):
                    await page.say(question)
            finally:
                await page.client.aclose()

    started = time.perf_counter()
    await asyncio.gather(*(visitor() for _ in range(concurrency)))
    run.elapsed = time.perf_counter() - started
    return run


def latest_code(email: str) -> Optional[str]:
    """The code the action server e-mailed, read from the outbox of the stack under test."""
    from bot.storage.db import make_engine, session_factory, transaction
    from bot.storage.models import OutboxMessage

    global _SESSIONS
    if _SESSIONS is None:
        _SESSIONS = session_factory(make_engine(_DATABASE_URL))
    with transaction(_SESSIONS) as session:
        body = (
            session.execute(
                select(OutboxMessage.body)
                .where(OutboxMessage.to_address == email)
                .order_by(OutboxMessage.id.desc())
            )
            .scalars()
            .first()
        )
    match = re.search(r"code is (\d{6})", body or "")
    return match.group(1) if match else None


_SESSIONS = None
# The request database of the stack under test where it is not this process's own (the scaled
# stack's PostgreSQL); None: DATABASE_URL, as the settings give it.
_DATABASE_URL: Optional[str] = None


async def our_conversation(conversation: Conversation) -> None:
    roll = random.random()
    if roll < 0.4:
        for question in random.sample(POLICY_QUESTIONS, 3):
            await conversation.say(question)
    elif roll < 0.6:
        for question in random.sample(CHINESE_QUESTIONS, 3):
            await conversation.say(question)
    elif roll < 0.8:
        email = f"bench.{uuid.uuid4().hex[:10]}@example.com"
        for text in ("please delete my account", email, "the whole account", "skip", "yes"):
            await conversation.say(text)
        code = await asyncio.to_thread(latest_code, email)
        reply = await conversation.say(code or "000000")
        if "DEL-" not in reply:
            conversation.run.errors += 1
    else:
        for text in random.choice((SMALL_TALK, CHINESE_TALK)):
            await conversation.say(text)


async def stock_conversation(conversation: Conversation) -> None:
    for text in STOCK_TALK:
        await conversation.say(text)


async def load(name: str, url: str, script: Callable, concurrency: int, seconds: float) -> Run:
    run = Run(name)
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await script(Conversation(client, url, run))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        run.elapsed = time.perf_counter() - started
    return run


BAND = 50  # turns per band of the long conversation


def bands(latencies: List[float], width: int = BAND) -> Dict[str, float]:
    """Median latency (ms) of each band of `width` turns, named by its turns ("1-50")."""
    return {
        f"{start + 1}-{min(start + width, len(latencies))}": statistics.median(
            latencies[start : start + width]
        )
        * 1000
        for start in range(0, len(latencies), width)
    }


async def long_conversation(url: str, turns: int) -> Dict[str, float]:
    """One visitor asking policy questions in one conversation for `turns` turns: whether a
    message costs more, in time and in CPU (Rasa's and the action server's), the longer the
    conversation (it must not)."""
    run = Run("long")
    texts = POLICY_QUESTIONS + CHINESE_QUESTIONS
    cpu: List[float] = []
    async with httpx.AsyncClient(timeout=60) as client:
        conversation = Conversation(client, url, run)
        started = time.perf_counter()
        for turn in range(turns):
            if turn % BAND == 0:
                cpu.append(_servers_cpu())
            await conversation.say(texts[turn % len(texts)])
        cpu.append(_servers_cpu())
        run.elapsed = time.perf_counter() - started
    figures = bands(run.latencies)
    first, last = next(iter(figures.values())), list(figures.values())[-1]
    figures["last / first"] = last / first if first else 0.0
    spent = [(b - a) * 1000 / BAND for a, b in zip(cpu, cpu[1:], strict=False)]
    if len(spent) > 1 and spent[0]:
        figures["CPU ms, first band"] = spent[0]
        figures["CPU ms, last band"] = spent[-1]
    figures["errors"] = float(run.errors)
    return figures


def _servers_cpu() -> float:
    seconds = cpu_seconds()
    return seconds["rasa"] + seconds["actions"]


async def single_user(name: str, url: str, texts: List[str], repeats: int) -> Run:
    run = Run(name)
    async with httpx.AsyncClient(timeout=60) as client:
        started = time.perf_counter()
        for index in range(repeats):
            await Conversation(client, url, run).say(texts[index % len(texts)])
        run.elapsed = time.perf_counter() - started
    return run


# -- processes and their memory ------------------------------------------------------------------


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _rss_mib(pid: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


PROCESS_GROUPS: List[Tuple[str, Callable[[str], bool]]] = [
    ("rasa", lambda c: "bot.rasa.entry run --enable-api" in c),
    ("actions", lambda c: "bot.rasa.entry run actions" in c),
    ("web", lambda c: f"uvicorn --factory {WEB_APP}" in c),
    ("stock rasa", lambda c: f"--port {STOCK_PORT}" in c and "rasa" in c),
    ("postgres", lambda c: c.startswith("postgres")),
    ("redis", lambda c: "redis-server" in c),
]
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: str) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _by_group(measure: Callable[[str], float]) -> Dict[str, float]:
    totals = {name: 0.0 for name, _ in PROCESS_GROUPS}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        command = _cmdline(pid)
        for name, matches in PROCESS_GROUPS:
            if matches(command):
                totals[name] += measure(pid)
                break
    return totals


def cpu_seconds() -> Dict[str, float]:
    """CPU time (user + system) used so far by each process group, in seconds."""
    return _by_group(_cpu_seconds)


def cpu_ms_per_message(
    before: Dict[str, float], after: Dict[str, float], messages: int
) -> Dict[str, float]:
    """What each process group spent on one message, from two `cpu_seconds()` readings."""
    return {
        name: (after[name] - before.get(name, 0.0)) * 1000 / messages
        for name in after
        if messages and after[name] > before.get(name, 0.0)
    }


def memory() -> Dict[str, float]:
    """Resident memory per process group (a group's worker processes included), in MiB."""
    return _by_group(_rss_mib)


def start_stock_bot() -> subprocess.Popen:
    """A stock `rasa init` bot from the same .venv (trained once, kept in var/bench/stock)."""
    if not list((STOCK_DIR / "models").glob("*.tar.gz")):
        print("==> Creating and training the stock `rasa init` bot (about 1-2 min, once)")
        STOCK_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(STOCK_DIR)],
            cwd=STOCK_DIR,
            env=child_environment(),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    print(f"==> Starting the stock bot on :{STOCK_PORT}")
    process = subprocess.Popen(
        [str(BIN / "rasa"), "run", "--port", str(STOCK_PORT), "--model", "models"],
        cwd=STOCK_DIR,
        env=child_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while not is_healthy(f"http://127.0.0.1:{STOCK_PORT}/"):
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("the stock bot did not start")
        time.sleep(1)
    return process


def table(rows: Dict[str, Dict[str, float]]) -> str:
    lines = [f"{'':<26}{'msgs':>7}{'err':>5}{'msg/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"]
    for name, r in rows.items():
        lines.append(
            f"{name:<26}{r['messages']:>7.0f}{r['errors']:>5.0f}{r['throughput']:>8.1f}"
            f"{r['p50_ms']:>9.0f}{r['p95_ms']:>9.0f}{r['p99_ms']:>9.0f}"
        )
    return "\n".join(lines)


async def breakdown(
    rasa_url: str, action_url: str, token: str, repeats: int = 40
) -> Dict[str, float]:
    """Where one policy question's time goes: NLU alone, the action server alone, the whole."""

    async def p50(call: Callable) -> float:
        times = []
        for index in range(repeats):
            started = time.perf_counter()
            await call(index)
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1000

    async with httpx.AsyncClient(timeout=60) as client:
        parse = await p50(
            lambda i: client.post(
                f"{rasa_url}/model/parse",
                params={"token": token},
                json={"text": POLICY_QUESTIONS[i % 10]},
            )
        )
        tracker = {
            "sender_id": "bench",
            "slots": {},
            "latest_message": {"text": "do you sell my data", "intent": {"name": "ask_sharing"}},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
        action = await p50(
            lambda i: client.post(
                f"{action_url}/webhook",
                json={
                    "next_action": "action_answer_policy",
                    "sender_id": "bench",
                    "tracker": tracker,
                    "domain": {},
                    "version": "3.6.2",
                },
            )
        )
        whole = await p50(
            lambda i: client.post(
                f"{rasa_url}/webhooks/rest/webhook",
                json={"sender": f"bench-{uuid.uuid4().hex}", "message": POLICY_QUESTIONS[i % 10]},
            )
        )
    return {
        "nlu_parse_ms": parse,
        "action_server_ms": action,
        "whole_message_ms": whole,
        "dialogue_and_tracker_ms": max(0.0, whole - parse - action),
    }


def store_work(env: Dict[str, str]) -> Dict[str, float]:
    """Commands Redis has processed and transactions PostgreSQL has committed so far (the
    scaled stack's stores, every database of the server), for the work per message."""
    import redis  # type: ignore[import-untyped]
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    counts: Dict[str, float] = {}
    try:
        client = redis.Redis(host=env["REDIS_HOST"], port=int(env["REDIS_PORT"]))
        counts["redis_commands"] = float(client.info("stats")["total_commands_processed"])
        # The lock's round trips: one script call each (the commands it runs count above).
        counts["redis_scripts"] = float(
            client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)
        )
    except (redis.RedisError, KeyError, ValueError):
        pass
    url = (
        f"postgresql://{env['TRACKER_DB_USER']}:{env['TRACKER_DB_PASSWORD']}@"
        f"{env['TRACKER_DB_HOST']}:{env['TRACKER_DB_PORT']}/postgres"
    )
    databases = {
        "tracker": env["TRACKER_DB_NAME"],
        "requests": make_url(env.get("DATABASE_URL") or "sqlite://").database or "",
    }
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = dict(
                connection.execute(
                    # Autocommit statements (the tracker store's) count one transaction each.
                    text(
                        "SELECT datname, xact_commit + xact_rollback FROM pg_stat_database "
                        "WHERE datname IS NOT NULL"
                    )
                ).all()
            )
        for label, name in databases.items():
            if name in rows:
                counts[f"postgres_transactions ({label})"] = float(rows[name])
    except Exception:  # noqa: BLE001 - figures only: a server we cannot ask gives none
        pass
    finally:
        engine.dispose()
    return counts


def per_message(
    before: Dict[str, float], after: Dict[str, float], messages: int
) -> Dict[str, float]:
    return {k: (after[k] - before[k]) / messages for k in after if k in before and messages}


@dataclass
class Measured:
    results: Dict[str, Dict[str, float]] = field(default_factory=dict)
    cpu_ms: Dict[str, float] = field(default_factory=dict)
    store_work: Dict[str, float] = field(default_factory=dict)
    long: Dict[str, float] = field(default_factory=dict)


async def measure(
    label: str,
    rasa_url: str,
    concurrency: int,
    seconds: float,
    long_turns: int,
    stores: Optional[Dict[str, str]] = None,
    web_url: Optional[str] = None,
) -> Measured:
    """One configuration: one user, `concurrency` users for `seconds` (with the CPU each process
    spent and, for the scaled stores, their work per message), the same number of visitors
    through the website's chat relay for a third of that (the relay's CPU per message), then
    one long conversation."""
    ours = f"{rasa_url}/webhooks/rest/webhook"
    measured = Measured()
    await single_user("warm-up", ours, POLICY_QUESTIONS, 10)
    measured.results[f"{label}, 1 user, policy q."] = (
        await single_user("single", ours, POLICY_QUESTIONS, 50)
    ).summary()
    cpu_before = cpu_seconds()
    work_before = await asyncio.to_thread(store_work, stores) if stores else {}
    run = await load(label, ours, our_conversation, concurrency, seconds)
    cpu_after = cpu_seconds()
    if stores:
        measured.store_work = per_message(
            work_before, await asyncio.to_thread(store_work, stores), run.messages
        )
    measured.cpu_ms = cpu_ms_per_message(cpu_before, cpu_after, run.messages)
    measured.results[f"{label}, {concurrency} users, mix"] = run.summary()
    if web_url:
        web_before = cpu_seconds()
        web = await through_the_website(web_url, concurrency, seconds / 3)
        relay = cpu_ms_per_message(web_before, cpu_seconds(), web.messages).get("web")
        if relay is not None:
            measured.cpu_ms["web (chat relay)"] = relay
        measured.results[f"{label}, {concurrency} users, via the website"] = web.summary()
    if long_turns:
        measured.long = await long_conversation(ours, long_turns)
    return measured


async def measure_stock(
    stock_url: str, concurrency: int, seconds: float
) -> Dict[str, Dict[str, float]]:
    stock = f"{stock_url}/webhooks/rest/webhook"
    await single_user("warm-up", stock, STOCK_TALK, 10)
    return {
        "stock, 1 user": (await single_user("single", stock, STOCK_TALK, 50)).summary(),
        f"stock, {concurrency} users": (
            await load("stock", stock, stock_conversation, concurrency, seconds)
        ).summary(),
    }


def store_cost(conversations: int = 20, messages: int = 600) -> Dict[str, float]:
    """What the embedded tracker store costs a message, in this process, in memory and on a
    SQLite file: `messages` policy questions and answers spread over `conversations`, each
    loaded, added to and saved as Rasa does. Milliseconds a message."""
    import tempfile

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    from bot.core.paths import ROOT
    from bot.rasa.tracker_store import BoundedSQLTrackerStore, RetainingInMemoryTrackerStore

    domain = Domain.load(str(ROOT / "domain.yml"))

    async def say(store: Any, sender: str, number: int) -> None:
        tracker = await store.retrieve(sender) or await store.create_tracker(sender)
        for event in (
            UserUttered(POLICY_QUESTIONS[number % 10], {"name": "ask_sharing"}),
            ActionExecuted("action_answer_policy"),
            BotUttered(f"answer {number}"),
            ActionExecuted("action_listen"),
        ):
            tracker.update(event)
        await store.save(tracker)

    async def per_message(store: Any) -> float:
        for number in range(conversations):  # every conversation made before timing
            await say(store, f"warm-{number}", number)
        started = time.perf_counter()
        for number in range(messages):
            await say(store, f"warm-{number % conversations}", number)
        return (time.perf_counter() - started) * 1000 / messages

    with tempfile.TemporaryDirectory() as folder:
        stores = {
            "memory": RetainingInMemoryTrackerStore(domain),
            "SQLite": BoundedSQLTrackerStore(domain, db=str(Path(folder) / "conversations.db")),
        }
        return {name: asyncio.run(per_message(store)) for name, store in stores.items()}


def write_json(path: Path, figures: Dict) -> None:
    """The figures as JSON, creating the folder they go in (a fresh checkout has no results/)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2))


def encoder_cache_note(size: Optional[int], chosen: bool) -> str:
    """The results' header on the cache of repeated texts' encodings: `size` None for a stack
    that was already running (its setting is its own); `chosen` when --encoder-cache-size set it."""
    if size is None:
        return "encoder cache: as the running stack has it"
    return (
        f"encoder cache: {size}"
        + (" (off)" if size == 0 else "")
        + ("" if chosen else " (the stack's setting)")
    )


def _figures_line(title: str, figures: Dict[str, float], unit: str = "", digits: int = 1) -> str:
    return f"{title}: " + ", ".join(f"{k} {v:.{digits}f}{unit}" for k, v in figures.items())


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot bench", description=__doc__)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--workers", type=int, default=1, help="processes per server in the scaled configuration"
    )
    parser.add_argument(
        "--scaled",
        action="store_true",
        help="after the embedded configuration, the scaled one (PostgreSQL tracker store, Redis "
        "locks), with the ratio of their throughputs",
    )
    parser.add_argument(
        "--long-turns",
        type=int,
        default=400,
        metavar="N",
        help="turns of the one long conversation measured by band of 50 (0: none)",
    )
    parser.add_argument("--no-stock", action="store_true", help="skip the stock bot")
    parser.add_argument(
        "--store-cost",
        action="store_true",
        help="only what the embedded tracker store costs a message, in memory and in SQLite "
        "(in this process: no stack is started)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--encoder-cache-size",
        type=int,
        metavar="N",
        help="ENCODER_CACHE_SIZE for the stack this starts: how many repeated "
        "texts' encodings the assistant keeps, 0 to measure it without that "
        "cache (default: the stack's own setting)",
    )
    args = parser.parse_args(argv)
    if args.encoder_cache_size is not None and args.encoder_cache_size < 0:
        parser.error("--encoder-cache-size must be 0 or more")

    if args.store_cost:
        cost = store_cost()
        print(
            "tracker store, ms a message (600 messages over 20 conversations, one process): "
            + ", ".join(f"{name} {ms:.2f}" for name, ms in cost.items())
        )
        if args.json:
            write_json(args.json, {"store_ms_per_message": cost})
        return 0

    cache_env = (
        {}
        if args.encoder_cache_size is None
        else {"ENCODER_CACHE_SIZE": str(args.encoder_cache_size)}
    )
    embedded = Stack(echo=False, env=cache_env)
    scaled = (
        Stack(echo=False, workers=args.workers, scaled=True, env=cache_env)
        if args.scaled or args.workers > 1
        else None
    )
    started_here = not embedded.all_healthy()
    if not started_here and (cache_env or scaled is not None):
        # Which stores a running stack uses cannot be asked of it, nor its cache setting: the
        # figures would be labelled with a configuration it may not have.
        print(
            "==> The assistant is already running: stop it (Ctrl-C in `make run`) to measure "
            "the scaled configuration or an encoder cache size, which the bench starts itself",
            file=sys.stderr,
        )
        return 2
    chosen = args.encoder_cache_size is not None
    cache_size = (
        args.encoder_cache_size
        if chosen
        else getattr(embedded.settings, "encoder_cache_size", None)
        if started_here
        else None
    )
    cache = encoder_cache_note(cache_size, chosen)
    settings = embedded.settings
    runs: Dict[str, Measured] = {}
    rss: Dict[str, Dict[str, float]] = {}
    results: Dict[str, Dict[str, float]] = {}
    parts: Dict[str, float] = {}
    global _DATABASE_URL, _SESSIONS
    for label, stack in [("ours", embedded), ("scaled", scaled)]:
        if stack is None:
            continue
        _DATABASE_URL, _SESSIONS = stack.extra_env.get("DATABASE_URL") or None, None
        if stack is scaled or started_here:
            print(
                f"==> Starting the assistant ({label}: {stack.workers} process(es) per server"
                f"{', PostgreSQL + Redis' if stack.scaled else ', embedded stores'})"
            )
            stack.start()
        stock = None if args.no_stock or label != "ours" else start_stock_bot()
        try:
            runs[label] = asyncio.run(
                measure(
                    label,
                    settings.rasa_url,
                    args.concurrency,
                    args.seconds,
                    args.long_turns,
                    stack.extra_env if stack.scaled else None,
                    settings.web_url,
                )
            )
            results.update(runs[label].results)
            rss[label] = memory()
            if stock is not None:
                results.update(
                    asyncio.run(
                        measure_stock(
                            f"http://127.0.0.1:{STOCK_PORT}", args.concurrency, args.seconds
                        )
                    )
                )
            if label == "ours":
                parts = asyncio.run(
                    breakdown(
                        settings.rasa_url, settings.action_server_url, settings.rasa_api_token
                    )
                )
        finally:
            if stock is not None:
                os.killpg(stock.pid, 15)
                stock.wait(timeout=30)
            if stack is scaled or started_here:
                stack.stop()

    print(
        f"\nMachine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; "
        f"{args.concurrency} concurrent conversations for {args.seconds:.0f} s each; "
        f"{cache}\n"
    )
    print(table(results))
    mix = f"{args.concurrency} users, mix"
    ours = results[f"ours, {mix}"]["throughput"]
    ratios: Dict[str, float] = {}
    stock_key = f"stock, {args.concurrency} users"
    if stock_key in results and results[stock_key]["throughput"]:
        ratios["ours / stock"] = ours / results[stock_key]["throughput"]
    if f"scaled, {mix}" in results and ours:
        ratios["scaled / embedded"] = results[f"scaled, {mix}"]["throughput"] / ours
    if ratios:
        print("\nthroughput ratio " + ", ".join(f"{k}: {v:.2f}x" for k, v in ratios.items()))
    for label, measured in runs.items():
        print(f"\n[{label}]")
        mib = {k: v for k, v in rss[label].items() if v}
        print(_figures_line("resident memory (MiB)", mib, digits=0))
        print(_figures_line("CPU per message (ms)", measured.cpu_ms))
        if measured.store_work:
            print(_figures_line("stores' work per message", measured.store_work))
        if measured.long:
            print(_figures_line("one conversation, median ms by turn band", measured.long))
    if parts:
        print(
            "\none policy question, p50 (ms): "
            + ", ".join(f"{k[:-3].replace('_', ' ')} {v:.1f}" for k, v in parts.items())
        )
    if args.json:
        write_json(
            args.json,
            {
                "results": results,
                "ratios": ratios,
                "rss_mib": rss,
                "cpu_ms_per_message": {k: m.cpu_ms for k, m in runs.items()},
                "store_work_per_message": {k: m.store_work for k, m in runs.items()},
                "long_conversation_ms": {k: m.long for k, m in runs.items()},
                "breakdown": parts,
                "concurrency": args.concurrency,
                "workers": args.workers,
                "scaled": scaled is not None,
                "encoder_cache_size": cache_size,
            },
        )
    failed = any(r["errors"] for r in results.values()) or any(
        m.long.get("errors") for m in runs.values()
    )
    return 1 if failed else 0
