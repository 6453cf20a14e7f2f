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
from typing import Callable, Dict, List, Optional, Tuple

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
    def __init__(self, client: httpx.AsyncClient, url: str, run: Run) -> None:
        self.client, self.url, self.run = client, url, run
        self.sender = f"bench-{uuid.uuid4().hex}"

    async def say(self, text: str) -> str:
        started = time.perf_counter()
        try:
            response = await self.client.post(
                self.url, json={"sender": self.sender, "message": text}
            )
            response.raise_for_status()
            reply = "\n".join(m.get("text", "") for m in response.json())
            if not reply:
                raise ValueError("empty reply")
        except (httpx.HTTPError, ValueError):
            self.run.errors += 1
            reply = ""
        self.run.latencies.append(time.perf_counter() - started)
        self.run.messages += 1
        return reply


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
]


def memory() -> Dict[str, float]:
    """Resident memory per process group (a group's worker processes included), in MiB."""
    totals = {name: 0.0 for name, _ in PROCESS_GROUPS}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        command = _cmdline(pid)
        for name, matches in PROCESS_GROUPS:
            if matches(command):
                totals[name] += _rss_mib(pid)
                break
    return totals


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


async def measure(
    rasa_url: str, stock_url: Optional[str], concurrency: int, seconds: float
) -> Dict[str, Dict[str, float]]:
    ours = f"{rasa_url}/webhooks/rest/webhook"
    results: Dict[str, Dict[str, float]] = {}
    await single_user("warm-up", ours, POLICY_QUESTIONS, 10)
    results["ours, 1 user, policy q."] = (
        await single_user("single", ours, POLICY_QUESTIONS, 50)
    ).summary()
    results[f"ours, {concurrency} users, mix"] = (
        await load("ours", ours, our_conversation, concurrency, seconds)
    ).summary()
    if stock_url:
        stock = f"{stock_url}/webhooks/rest/webhook"
        await single_user("warm-up", stock, STOCK_TALK, 10)
        results["stock, 1 user"] = (await single_user("single", stock, STOCK_TALK, 50)).summary()
        results[f"stock, {concurrency} users"] = (
            await load("stock", stock, stock_conversation, concurrency, seconds)
        ).summary()
    return results


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


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot bench", description=__doc__)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--workers", type=int, default=1, help="processes per server (2+: the scaled configuration)"
    )
    parser.add_argument(
        "--scaled",
        action="store_true",
        help="PostgreSQL tracker store and Redis locks even with one process",
    )
    parser.add_argument("--no-stock", action="store_true", help="skip the stock bot")
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

    cache_env = (
        {}
        if args.encoder_cache_size is None
        else {"ENCODER_CACHE_SIZE": str(args.encoder_cache_size)}
    )
    stack = Stack(echo=False, workers=args.workers, scaled=args.scaled, env=cache_env)
    global _DATABASE_URL
    _DATABASE_URL = stack.extra_env.get("DATABASE_URL") or None
    started_here = not stack.all_healthy()
    if not started_here and cache_env:
        print(
            "==> The assistant is already running, with its own encoder cache setting: stop it "
            "to measure with --encoder-cache-size",
            file=sys.stderr,
        )
        return 2
    if not started_here and stack.scaled:
        # Which stores a running stack uses cannot be asked of it: its figures would be labelled
        # with a configuration it may not have, and its requests looked for in the wrong database.
        print(
            "==> The assistant is already running: stop it (Ctrl-C in `make run`) to measure "
            "the scaled configuration, which the bench starts itself",
            file=sys.stderr,
        )
        return 2
    chosen = args.encoder_cache_size is not None
    cache_size = (
        args.encoder_cache_size
        if chosen
        else getattr(stack.settings, "encoder_cache_size", None)
        if started_here
        else None
    )
    cache = encoder_cache_note(cache_size, chosen)
    if started_here:
        print(
            f"==> Starting the assistant ({args.workers} process(es) per server"
            f"{', PostgreSQL + Redis' if stack.scaled else ''})"
        )
        stack.start()
    stock = None if args.no_stock else start_stock_bot()
    try:
        results = asyncio.run(
            measure(
                stack.settings.rasa_url,
                None if stock is None else f"http://127.0.0.1:{STOCK_PORT}",
                args.concurrency,
                args.seconds,
            )
        )
        rss = memory()
        parts = asyncio.run(
            breakdown(
                stack.settings.rasa_url,
                stack.settings.action_server_url,
                stack.settings.rasa_api_token,
            )
        )
    finally:
        if stock is not None:
            os.killpg(stock.pid, 15)
            stock.wait(timeout=30)
        if started_here:
            stack.stop()

    print(
        f"\nMachine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; "
        f"{args.concurrency} concurrent conversations for {args.seconds:.0f} s each; "
        f"{cache}\n"
    )
    print(table(results))
    ours = results[f"ours, {args.concurrency} users, mix"]["throughput"]
    stock_key = f"stock, {args.concurrency} users"
    if stock_key in results and results[stock_key]["throughput"]:
        print(f"\nthroughput ratio ours / stock: {ours / results[stock_key]['throughput']:.2f}x")
    ours_rss = sum(v for k, v in rss.items() if k != "stock rasa")
    print(
        "\nresident memory (MiB): "
        + ", ".join(f"{k} {v:.0f}" for k, v in rss.items())
        + f"; ours together {ours_rss:.0f}"
    )
    print(
        "one policy question, p50 (ms): "
        + ", ".join(f"{k[:-3].replace('_', ' ')} {v:.1f}" for k, v in parts.items())
    )
    if args.json:
        write_json(
            args.json,
            {
                "results": results,
                "rss_mib": rss,
                "breakdown": parts,
                "concurrency": args.concurrency,
                "workers": args.workers,
                "scaled": stack.scaled,
                "encoder_cache_size": cache_size,
            },
        )
    return 0 if all(r["errors"] == 0 for r in results.values()) else 1
