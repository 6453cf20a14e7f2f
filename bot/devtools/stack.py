"""Runs Rasa, the action server and the web app together, in the foreground, as one command.

`make run` ends here: each process's output is printed with its name in front, progress is shown
while Rasa loads its model, and Ctrl-C (or SIGTERM, or SIGHUP) stops all three. The live tests use
the same code to start the stack, or to find one already running and leave it alone.

Stopping always stops everything that was started, however many signals arrive: the signal
handler only records the request (a second or third signal while stopping, as `make` passes one
on, is counted and changes nothing), every server's process group gets SIGTERM, whatever is still
running after the grace period gets SIGKILL, and the supervisor returns only once every server is
reaped and its process group (its worker processes) is empty. On Linux, a server also gets
SIGTERM when the supervisor itself dies (even from SIGKILL), instead of holding its port forever.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, TextIO

import httpx

from bot.core.paths import ROOT
from bot.core.settings import Settings, environment_for_child, load_settings
from bot.storage.db import ensure_database, upgrade

BIN = Path(sys.executable).parent
RASA = [str(BIN / "python"), "-m", "bot.rasa.entry"]  # rasa, with personal data masked in logs
WEB_APP = "bot.web.app:serve"  # uvicorn --factory: the app is built in the server process


@dataclass(frozen=True)
class Service:
    name: str
    command: List[str]
    health_url: str
    env: Dict[str, str] = field(default_factory=dict)


def rasa_service(
    settings: Settings,
    port: int,
    endpoints: str = "endpoints.yml",
    debug: bool = False,
    name: str = "rasa",
) -> Service:
    token = settings.rasa_api_token
    return Service(
        name=name,
        command=[
            *RASA,
            "run",
            "--enable-api",
            f"--auth-token={token}",
            "--cors",
            settings.site_origin,
            "--interface",
            settings.rasa_host,
            "--port",
            str(port),
            "--model",
            str(settings.model_path),
            "--endpoints",
            endpoints,
            "--credentials",
            "credentials.yml",
            *(["--debug"] if debug else []),
        ],
        # /status needs the token and answers only once the model is loaded.
        health_url=f"http://127.0.0.1:{port}/status?token={token}",
    )


def actions_service(
    settings: Settings, port: int, debug: bool = False, name: str = "actions"
) -> Service:
    return Service(
        name=name,
        command=[
            *RASA,
            "run",
            "actions",
            "--actions",
            "actions",
            "--port",
            str(port),
            *(["--debug"] if debug else []),
        ],
        health_url=f"http://127.0.0.1:{port}/health",
        # rasa_sdk listens on 0.0.0.0 unless told otherwise; only Rasa needs to reach it.
        env={"SANIC_HOST": settings.action_host},
    )


def services(
    settings: Settings, debug: bool = False, workers: int = 1, scaled: bool = False
) -> List[Service]:
    """The stack; with `workers` > 1, each server runs that many processes on its one port.
    Scaled (always with several workers): conversations in PostgreSQL, locks in Redis."""
    endpoints = "endpoints.scaled.yml" if scaled or workers > 1 else "endpoints.yml"
    web_workers = ["--workers", str(workers)] if workers > 1 else []
    return [
        actions_service(settings, settings.action_port, debug),
        rasa_service(settings, settings.rasa_port, endpoints, debug),
        Service(
            name="web",
            command=[
                str(BIN / "python"),
                "-m",
                "uvicorn",
                "--factory",
                WEB_APP,
                "--host",
                settings.web_host,
                "--port",
                str(settings.web_port),
                "--no-access-log",
                *web_workers,
                *(["--log-level", "debug"] if debug else []),
            ],
            health_url=f"{settings.web_url}/health",
        ),
    ]


def scaled_environment(settings: Settings, workers: int) -> Dict[str, str]:
    """Where the scaled stack keeps its state: PostgreSQL for conversations and requests, Redis
    for the conversation locks, as the servers' environment. Values set in the environment (or
    .env) win: `settings` has them."""

    def either(value: object, default: object) -> str:
        return str(default if value is None else value)

    return {
        **settings.scaled_stores(),
        "ACTION_ENDPOINT_URL": either(
            settings.action_endpoint_url, f"http://127.0.0.1:{settings.action_port}/webhook"
        ),
        "SANIC_WORKERS": either(settings.sanic_workers, workers),
        "ACTION_SERVER_SANIC_WORKERS": either(settings.action_server_sanic_workers, workers),
    }


def is_healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def prepare_tracker_store(env: Dict[str, str]) -> None:
    """Create the tracker database and its `events` table once, before several Rasa processes
    start and would each race to create them."""
    ensure_database(
        f"postgresql://{env['TRACKER_DB_USER']}:{env['TRACKER_DB_PASSWORD']}@"
        f"{env['TRACKER_DB_HOST']}:{env['TRACKER_DB_PORT']}/{env['TRACKER_DB_NAME']}"
    )
    # The child reads the values from the environment handed to it (the password stays out of
    # its command line); this process reads none.
    code = (
        "from rasa.core.tracker_store import SQLTrackerStore; import os; "
        "SQLTrackerStore(dialect='postgresql', host=os.environ['TRACKER_DB_HOST'], "
        "port=int(os.environ['TRACKER_DB_PORT']), db=os.environ['TRACKER_DB_NAME'], "
        "username=os.environ['TRACKER_DB_USER'], password=os.environ['TRACKER_DB_PASSWORD'])"
    )
    subprocess.run(
        [str(BIN / "python"), "-c", code],
        cwd=ROOT,
        env=child_environment(env),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=300,
    )


def _print(message: str, stream: Optional[TextIO] = None) -> None:
    """print(), except that a closed terminal (SIGHUP) does not stop the stopping."""
    try:
        print(message, file=stream or sys.stdout, flush=True)
    except (OSError, ValueError):
        pass


class StopRequested(Exception):
    """A stop was asked for (a signal) while the stack was still starting."""


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_this_process() -> Optional[Callable[[], None]]:
    """A preexec_fn that has Linux send the child SIGTERM when this process dies, SIGKILL
    included, so that a killed supervisor does not leave its servers holding their ports.
    The signal comes when the *thread* that started the child ends, so only children started
    from the main thread get it. None where prctl is not available."""
    if (
        not sys.platform.startswith("linux")
        or threading.current_thread() is not threading.main_thread()
    ):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not in the child
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies, which hold no ports and which only
    their parent can reap, do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not os.path.isdir("/proc"):
        return True
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def _signal_group(pgid: int, signum: int) -> None:
    """Every process of the group (a server and its worker processes), even where the server
    itself has already exited and left workers behind. Linux does not hand out a group's id as
    a new process id while the group has members, so this never reaches someone else."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def child_environment(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = environment_for_child(extra)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("PYTHONWARNINGS", "ignore")  # rasa's dependencies print pages of deprecations
    # The sentence encoder multiplies a few tokens' vectors by its weights: too small a product to
    # share, and OpenBLAS's second thread spins on the core Rasa's event loop needs (make bench:
    # README, "Performance"). A value in the environment wins.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


class Stack:
    """The three processes; `start()` waits until all answer their health checks."""

    def __init__(
        self,
        settings: Optional[Settings] = None,
        echo: bool = True,
        log_dir: Optional[Path] = None,
        debug: bool = False,
        workers: int = 1,
        scaled: bool = False,
        env: Optional[Dict[str, str]] = None,
        services: Optional[Sequence[Service]] = None,
    ) -> None:
        """`env`: extra environment for every server. `services`: run these instead of the
        assistant's three (for tests of the supervisor); then there is no model to check and no
        database to migrate."""
        self.settings = settings or load_settings()
        self.debug = debug
        self.workers = workers
        self.scaled = scaled or workers > 1
        self.extra_env = {
            **(scaled_environment(self.settings, workers) if self.scaled else {}),
            **(env or {}),
        }
        self.echo = echo
        self.log_dir = log_dir
        self.custom_services = None if services is None else list(services)
        self.processes: Dict[str, subprocess.Popen] = {}
        self._threads: List[threading.Thread] = []
        self.stopping = threading.Event()  # set by request_stop(); start() gives up when set
        self.stop_requests = 0
        self.grace = 15.0  # seconds each server has to end after SIGTERM before SIGKILL

    def services(self) -> List[Service]:
        if self.custom_services is not None:
            return list(self.custom_services)
        return services(self.settings, self.debug, self.workers, self.scaled)

    def all_healthy(self) -> bool:
        return all(is_healthy(s.health_url) for s in self.services())

    def request_stop(self) -> None:
        """Safe to call from a signal handler: records the request, nothing else."""
        self.stop_requests += 1
        self.stopping.set()

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        log = open(self.log_dir / f"{name}.log", "a", encoding="utf-8") if self.log_dir else None
        assert process.stdout is not None
        for line in process.stdout:  # read to the end even when stdout is gone (a closed
            try:  # terminal), or the server would block on a full pipe
                if log:
                    log.write(line)
                    log.flush()
                if self.echo:
                    sys.stdout.write(f"[{name:7}] {line}")
                    sys.stdout.flush()
            except (OSError, ValueError):
                pass
        if log:
            log.close()

    def start(self, timeout: float = 300.0) -> None:
        if self.custom_services is None:
            self._prepare()
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            for service in self.services():
                if self.stopping.is_set():
                    raise StopRequested()
                # Each server leads a process group of its own (its workers join it), which
                # stop() signals as a whole; on Linux it also gets SIGTERM if this process dies.
                process = subprocess.Popen(
                    service.command,
                    cwd=ROOT,
                    env=child_environment({**self.extra_env, **service.env}),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    start_new_session=True,
                    preexec_fn=_die_with_this_process(),
                )
                self.processes[service.name] = process
                thread = threading.Thread(
                    target=self._pump, args=(service.name, process), daemon=True
                )
                thread.start()
                self._threads.append(thread)
            self.wait_healthy(timeout)
        except BaseException:
            self.stop()  # never leave the others running, holding their ports
            raise

    def _prepare(self) -> None:
        if not self.settings.model_path.exists():
            raise FileNotFoundError(
                f"no trained model at {self.settings.model_path}: run `make run`"
            )
        database = self.extra_env.get("DATABASE_URL")
        self._say("Applying the request database migrations")
        if database:
            ensure_database(database)
        upgrade(database)
        if self.scaled:
            self._say("Preparing Rasa's tracker store in PostgreSQL")
            prepare_tracker_store(self.extra_env)

    def wait_healthy(self, timeout: float) -> None:
        pending = {s.name: s for s in self.services()}
        started = time.monotonic()
        last_note = 0.0
        while pending:
            if self.stopping.is_set():
                raise StopRequested()
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
                self._say(
                    f"waiting for {', '.join(pending)} ({elapsed:.0f}s; Rasa loads its "
                    "model and TensorFlow, which takes 20-60s)"
                )
            if pending:
                for _ in range(5):
                    if self.stopping.is_set():
                        break
                    time.sleep(0.2)

    def stop(self, grace: Optional[float] = None) -> None:
        """SIGTERM to every server's process group; SIGKILL to what still runs after `grace`
        seconds (default `self.grace`); returns once every server is reaped and its group is
        empty. Nothing here is interrupted by the signals run_foreground() catches: those are
        only counted."""
        grace = self.grace if grace is None else grace
        processes = dict(self.processes)
        if processes:
            self._say(f"Stopping {', '.join(processes)}")
        for process in processes.values():
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        pending = dict(processes)
        seen_requests = self.stop_requests
        while pending:
            for name, process in list(pending.items()):
                if process.poll() is not None and not _group_alive(process.pid):
                    del pending[name]
            if not pending:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if self.stop_requests != seen_requests:
                seen_requests = self.stop_requests
                self._say(
                    f"Already stopping: waiting up to {left:.0f}s more for "
                    f"{', '.join(pending)}, then killing"
                )
            time.sleep(min(0.1, left))
        for name, process in pending.items():
            self._say(f"{name} did not stop within {grace:.0f}s after SIGTERM: killing it")
            _signal_group(process.pid, signal.SIGKILL)
        for process in processes.values():
            process.wait()  # SIGKILL cannot be ignored
        # Workers the server left behind were killed with it; they belong to init by now, and
        # their end is its to see, so wait for it, but not for ever.
        settle = time.monotonic() + 5
        while any(_group_alive(p.pid) for p in processes.values()) and time.monotonic() < settle:
            time.sleep(0.05)
        for thread in self._threads:  # the last lines of output
            thread.join(timeout=2)
        self._threads = [t for t in self._threads if t.is_alive()]
        for name in processes:
            self.processes.pop(name, None)

    def _say(self, message: str) -> None:
        if self.echo:
            _print(f"==> {message}")


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_foreground(
    workers: int = 1, services: Optional[Sequence[Service]] = None, grace: float = 15.0
) -> int:
    """`make run`: start everything, print where to go, stop everything on Ctrl-C. With
    `workers` > 1 (`make run-scaled`), each server runs that many processes on its port, with
    conversations in PostgreSQL and their locks in Redis. `services` replaces the three servers
    (tests of the supervisor); `grace`: seconds each server gets after SIGTERM."""
    stack: Optional[Stack] = None
    early: List[int] = []

    # Ctrl-C, SIGTERM and SIGHUP (a closed terminal) only ask for a stop, however often they
    # come and whoever sends them (`make` passes its own on; `kill -- -PGID` reaches both), so
    # nothing can interrupt the stopping itself. This holds where a parent shell started this
    # process with SIGINT ignored (a background job) too; an ignored SIGHUP (nohup) stays
    # ignored. The handlers stay until exit.
    def on_signal(signum: int, frame: object) -> None:
        if stack is None:
            early.append(signum)
        else:
            stack.request_stop()

    for signum in STOP_SIGNALS:
        if signum == signal.SIGHUP and signal.getsignal(signum) == signal.SIG_IGN:
            continue
        signal.signal(signum, on_signal)
    stack = Stack(workers=workers, services=services)
    stack.grace = grace
    for _ in early:
        stack.request_stop()
    if stack.stopping.is_set():
        return 0
    if stack.all_healthy():
        print(f"==> The assistant is already running: http://localhost:{stack.settings.web_port}")
        return 0
    code = 0
    try:
        print("==> Starting the action server, Rasa and the web app (Ctrl-C stops all three)")
        stack.start()
        print(
            f"==> Ready. Open http://localhost:{stack.settings.web_port} and ask the assistant.",
            flush=True,
        )
        while not stack.stopping.is_set():
            exited = [(n, p.returncode) for n, p in stack.processes.items() if p.poll() is not None]
            if exited:
                print(f"==> {exited[0][0]} stopped (exit code {exited[0][1]}); stopping all")
                break
            time.sleep(0.2)
    except StopRequested:
        pass
    except (RuntimeError, TimeoutError, FileNotFoundError) as error:
        _print(f"==> Could not start: {error}", sys.stderr)
        code = 1
    finally:
        if stack.processes:
            _print("")
        stack.stop()  # returns only once every server has ended
        _print("==> Stopped.")
    return code
