"""Runs Rasa, the action server and the web app together, in the foreground, as one command.

`make run` ends here: each process's output is printed with its name in front, progress is shown
while Rasa loads its model, and Ctrl-C (or SIGTERM) stops all three. The live tests use the same
code to start the stack, or to find one already running and leave it alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import httpx

from bot.storage.db import ensure_database, upgrade
from bot.core.paths import ROOT
from bot.core.settings import Settings, load_settings, read_env_file

BIN = Path(sys.executable).parent
RASA = [str(BIN / "python"), "-m", "bot.rasa.entry"]  # rasa, with personal data masked in logs


@dataclass(frozen=True)
class Service:
    name: str
    command: List[str]
    health_url: str
    env: Dict[str, str] = field(default_factory=dict)


def rasa_service(settings: Settings, port: int, endpoints: str = "endpoints.yml",
                 debug: bool = False, name: str = "rasa") -> Service:
    token = settings.rasa_api_token
    return Service(
        name=name,
        command=[*RASA, "run", "--enable-api", f"--auth-token={token}",
                 "--cors", settings.site_origin, "--interface", settings.rasa_host,
                 "--port", str(port), "--model", str(settings.model_path),
                 "--endpoints", endpoints, "--credentials", "credentials.yml",
                 *(["--debug"] if debug else [])],
        # /status needs the token and answers only once the model is loaded.
        health_url=f"http://127.0.0.1:{port}/status?token={token}",
    )


def actions_service(settings: Settings, port: int, debug: bool = False,
                    name: str = "actions") -> Service:
    return Service(
        name=name,
        command=[*RASA, "run", "actions", "--actions", "actions", "--port", str(port),
                 *(["--debug"] if debug else [])],
        health_url=f"http://127.0.0.1:{port}/health",
        # rasa_sdk listens on 0.0.0.0 unless told otherwise; only Rasa needs to reach it.
        env={"SANIC_HOST": settings.action_host},
    )


def services(settings: Settings, debug: bool = False, workers: int = 1,
             scaled: bool = False) -> List[Service]:
    """The stack; with `workers` > 1, each server runs that many processes on its one port.
    Scaled (always with several workers): conversations in PostgreSQL, locks in Redis."""
    endpoints = "endpoints.scaled.yml" if scaled or workers > 1 else "endpoints.yml"
    web_workers = ["--workers", str(workers)] if workers > 1 else []
    return [
        actions_service(settings, settings.action_port, debug),
        rasa_service(settings, settings.rasa_port, endpoints, debug),
        Service(
            name="web",
            command=[str(BIN / "python"), "-m", "uvicorn", "bot.web.app:app",
                     "--host", settings.web_host, "--port", str(settings.web_port),
                     "--no-access-log", *web_workers,
                     *(["--log-level", "debug"] if debug else [])],
            health_url=f"{settings.web_url}/health",
        ),
    ]


def scaled_environment(settings: Settings, workers: int) -> Dict[str, str]:
    """Where the scaled stack keeps its state: PostgreSQL for conversations and requests, Redis
    for the conversation locks. Values already in the environment (or .env) win."""
    env = {**read_env_file(), **os.environ}
    defaults = {
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/videopro_requests",
        "TRACKER_DB_HOST": "127.0.0.1", "TRACKER_DB_PORT": "5432",
        "TRACKER_DB_NAME": "videopro_tracker", "TRACKER_DB_USER": "postgres",
        "TRACKER_DB_PASSWORD": "",
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_DB": "1",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{settings.action_port}/webhook",
        "SANIC_WORKERS": str(workers), "ACTION_SERVER_SANIC_WORKERS": str(workers),
    }
    return {key: env.get(key, value) for key, value in defaults.items()}


def is_healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def prepare_tracker_store(env: Dict[str, str]) -> None:
    """Create the tracker database and its `events` table once, before several Rasa processes
    start and would each race to create them."""
    ensure_database(f"postgresql://{env['TRACKER_DB_USER']}:{env['TRACKER_DB_PASSWORD']}@"
                    f"{env['TRACKER_DB_HOST']}:{env['TRACKER_DB_PORT']}/{env['TRACKER_DB_NAME']}")
    code = ("from rasa.core.tracker_store import SQLTrackerStore; import os; "
            "SQLTrackerStore(dialect='postgresql', host=os.environ['TRACKER_DB_HOST'], "
            "port=int(os.environ['TRACKER_DB_PORT']), db=os.environ['TRACKER_DB_NAME'], "
            "username=os.environ['TRACKER_DB_USER'], password=os.environ['TRACKER_DB_PASSWORD'])")
    subprocess.run([str(BIN / "python"), "-c", code], cwd=ROOT, env=child_environment(env),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)


def child_environment(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = {**os.environ, **(extra or {})}
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("PYTHONWARNINGS", "ignore")  # rasa's dependencies print pages of deprecations
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


class Stack:
    """The three processes; `start()` waits until all answer their health checks."""

    def __init__(self, settings: Optional[Settings] = None, echo: bool = True,
                 log_dir: Optional[Path] = None, debug: bool = False, workers: int = 1,
                 scaled: bool = False) -> None:
        self.settings = settings or load_settings()
        self.debug = debug
        self.workers = workers
        self.scaled = scaled or workers > 1
        self.extra_env = scaled_environment(self.settings, workers) if self.scaled else {}
        self.echo = echo
        self.log_dir = log_dir
        self.processes: Dict[str, subprocess.Popen] = {}
        self._threads: List[threading.Thread] = []

    def all_healthy(self) -> bool:
        return all(is_healthy(s.health_url)
                   for s in services(self.settings, workers=self.workers, scaled=self.scaled))

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        log = open(self.log_dir / f"{name}.log", "a", encoding="utf-8") if self.log_dir else None
        assert process.stdout is not None
        for line in process.stdout:
            if log:
                log.write(line)
                log.flush()
            if self.echo:
                sys.stdout.write(f"[{name:7}] {line}")
                sys.stdout.flush()
        if log:
            log.close()

    def start(self, timeout: float = 300.0) -> None:
        if not self.settings.model_path.exists():
            raise FileNotFoundError(f"no trained model at {self.settings.model_path}: run `make run`")
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        database = self.extra_env.get("DATABASE_URL")
        self._say("Applying the request database migrations")
        if database:
            ensure_database(database)
        upgrade(database)
        if self.scaled:
            self._say("Preparing Rasa's tracker store in PostgreSQL")
            prepare_tracker_store(self.extra_env)
        for service in services(self.settings, self.debug, self.workers, self.scaled):
            process = subprocess.Popen(
                service.command, cwd=ROOT, env=child_environment({**self.extra_env, **service.env}),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, start_new_session=True,
            )
            self.processes[service.name] = process
            thread = threading.Thread(target=self._pump, args=(service.name, process), daemon=True)
            thread.start()
            self._threads.append(thread)
        try:
            self.wait_healthy(timeout)
        except BaseException:
            self.stop()  # never leave the others running, holding their ports
            raise

    def wait_healthy(self, timeout: float) -> None:
        pending = {s.name: s for s in services(self.settings, workers=self.workers, scaled=self.scaled)}
        started = time.monotonic()
        last_note = 0.0
        while pending:
            for name, service in list(pending.items()):
                process = self.processes.get(name)
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {process.returncode}")
                if is_healthy(service.health_url):
                    del pending[name]
                    self._say(f"{name} is up ({service.health_url.split('?')[0]})")
            elapsed = time.monotonic() - started
            if pending and elapsed > timeout:
                raise TimeoutError(f"not healthy after {timeout:.0f}s: {', '.join(pending)}")
            if pending and elapsed - last_note >= 10:
                last_note = elapsed
                self._say(f"waiting for {', '.join(pending)} ({elapsed:.0f}s; Rasa loads its "
                          "model and TensorFlow, which takes 20-60s)")
            if pending:
                time.sleep(1)

    def stop(self, grace: float = 15.0) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def _say(self, message: str) -> None:
        if self.echo:
            print(f"==> {message}", flush=True)


def run_foreground(workers: int = 1) -> int:
    """`make run`: start everything, print where to go, stop everything on Ctrl-C. With
    `workers` > 1 (`make run-scaled`), each server runs that many processes on its port, with
    conversations in PostgreSQL and their locks in Redis."""
    stack = Stack(workers=workers)
    if stack.all_healthy():
        print("==> The assistant is already running: http://localhost:%d" % stack.settings.web_port)
        return 0
    # Ctrl-C and SIGTERM both end in KeyboardInterrupt, even where a parent shell started this
    # process with SIGINT ignored (a background job), so every way of stopping stops all three.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        print("==> Starting the action server, Rasa and the web app (Ctrl-C stops all three)")
        stack.start()
        print(f"==> Ready. Open http://localhost:{stack.settings.web_port} and ask the assistant.",
              flush=True)
        while True:
            exited = [(n, p.returncode) for n, p in stack.processes.items() if p.poll() is not None]
            if exited:
                print(f"==> {exited[0][0]} stopped (exit code {exited[0][1]}); stopping all")
                break
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    except (RuntimeError, TimeoutError, FileNotFoundError) as error:
        print(f"==> Could not start: {error}", file=sys.stderr)
        stack.stop()
        return 1
    print("\n==> Stopping…", flush=True)
    stack.stop()
    print("==> Stopped.")
    return 0
