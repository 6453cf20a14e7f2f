"""Runs Rasa, the action server and the web app together, in the foreground, as one command.

`make run` ends here: each process's output is printed with its name in front, progress is shown
while Rasa loads its model, and Ctrl-C (or SIGTERM, or SIGHUP) stops all three. The live tests use
the same code to start the stack, or to find one already running and leave it alone.

A server that dies, or that stops answering its health check after it had answered (hung), is
started again by itself, the others left running (`Stack.supervise`, `RestartPolicy`): its
process group is emptied first (a worker left behind would hold the port), and the delay before
the restart doubles with each restart (1 s, 2 s, 4 s ... 30 s) until it has stayed healthy for a
minute. A server still loading (Rasa takes 20-60 s) is not hung. The supervisor gives up, stops
everything and exits 1 only on a crash loop: five exits within 150 s, or no answer within five
minutes of a restart.

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
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Deque, Dict, List, Optional, Sequence, TextIO

import httpx

from bot.core.paths import ENV_FILE, ROOT, VAR_DIR
from bot.core.private_files import PRIVATE_UMASK, keep_private, open_private, private_dir, tighten
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
    """Rasa's server. Its API token goes in its environment (RASA_API_TOKEN), where only its
    owner can read it, and never on its command line, which `ps` shows everyone:
    bot.rasa.entry hands it to Rasa inside the process."""
    token = settings.rasa_api_token
    return Service(
        name=name,
        command=[
            *RASA,
            "run",
            "--enable-api",
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
        # /status needs the token and answers only once the model is loaded. Never printed
        # whole: see public_url().
        health_url=f"http://127.0.0.1:{port}/status?token={token}",
        env={"RASA_API_TOKEN": token} if token else {},
    )


def public_url(url: str) -> str:
    """`url` as it may be printed: without its query (Rasa's health URL holds the token)."""
    return url.split("?", 1)[0]


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


@dataclass(frozen=True)
class RestartPolicy:
    """When `Stack.supervise` restarts a server, and when it gives up. The defaults fit the real
    stack; the tests pass short ones."""

    first_delay: float = 1.0  # seconds before the first restart; doubled for each next one
    max_delay: float = 30.0
    stable_after: float = 60.0  # healthy this long: the next restart waits first_delay again
    max_exits: int = 5  # this many exits or hangs of one server ...
    window: float = 150.0  # ... within this many seconds: a crash loop, so give up
    # Answered its health check, then none for this long: hung (a stopped process, a deadlock).
    # Longer than a slow answer under load; a server that has not answered since its start is
    # loading, not hung (Rasa takes 20-60 s).
    hang_after: float = 25.0
    start_timeout: float = 300.0  # no answer this long after a restart: give up
    probe_every: float = 2.0  # seconds between two health checks of a server
    probe_timeout: float = 5.0  # one health check's limit

    def delay(self, restarts_in_a_row: int) -> float:
        """Seconds to wait before the next restart, after that many since it was last stable."""
        return float(min(self.first_delay * 2**restarts_in_a_row, self.max_delay))


class CrashLoop(Exception):
    """A server keeps dying, or does not answer after a restart: restarting it again would not
    help. The message says which and why."""


def exit_reason(returncode: int) -> str:
    """How a process ended, in words: "exit code 3", "killed by SIGKILL"."""
    if returncode >= 0:
        return f"exit code {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


class _Probe:
    """One health check, run in a thread of its own so that a server that does not answer
    holds up neither the supervisor nor a stop."""

    def __init__(self, url: str, timeout: float) -> None:
        self.ok = False
        self.done = threading.Event()
        threading.Thread(target=self._run, args=(url, timeout), daemon=True).start()

    def _run(self, url: str, timeout: float) -> None:
        try:
            self.ok = is_healthy(url, timeout)
        finally:
            self.done.set()


@dataclass
class _Watch:
    """What the supervisor knows of one server (monotonic times)."""

    started_at: float  # its current process's start
    answered_at: Optional[float] = None  # its latest answered health check since then
    healthy_since: Optional[float] = None  # when its current run of answered checks began
    in_a_row: int = 0  # restarts since it was last stable: the backoff's exponent
    restarts: int = 0  # restarts in all
    exits: Deque[float] = field(default_factory=deque)  # when it exited or hung, in the window
    restart_at: Optional[float] = None  # set while it waits to be started again
    probe: Optional[_Probe] = None
    probed_at: float = float("-inf")


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
        policy: Optional[RestartPolicy] = None,
    ) -> None:
        """`env`: extra environment for every server. `services`: run these instead of the
        assistant's three (for tests of the supervisor); then there is no model to check and no
        database to migrate. `policy`: when `supervise()` restarts a server."""
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
        self.policy = policy or RestartPolicy()
        self._watches: Dict[str, _Watch] = {}

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
        log = open_private(self.log_dir / f"{name}.log") if self.log_dir else None
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
            private_dir(self.log_dir)
        try:
            for service in self.services():
                if self.stopping.is_set():
                    raise StopRequested()
                self._launch(service)
            self.wait_healthy(timeout)
        except BaseException:
            self.stop()  # never leave the others running, holding their ports
            raise
        now = time.monotonic()
        self._watches = {name: _Watch(started_at=now, answered_at=now) for name in self.processes}

    def _launch(self, service: Service) -> None:
        """Each server leads a process group of its own (its workers join it), which stop()
        signals as a whole; on Linux it also gets SIGTERM if this process dies. What it
        creates is its owner's alone (umask 077)."""
        process = subprocess.Popen(
            service.command,
            cwd=ROOT,
            env=child_environment({**self.extra_env, **service.env}),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_this_process(),
            umask=PRIVATE_UMASK,
        )
        self.processes[service.name] = process
        thread = threading.Thread(target=self._pump, args=(service.name, process), daemon=True)
        thread.start()
        self._threads.append(thread)

    def supervise(self) -> None:
        """One round of watching the running servers, called again and again once `start()`
        has returned (run_foreground: every 0.2 s); it never waits. A server that exited, or
        that answered its health check and then stopped answering for `policy.hang_after`
        seconds (killed then), gets its process group emptied and is started again after a
        delay that doubles with each restart; the others are left alone. Raises CrashLoop when
        one exits `policy.max_exits` times within `policy.window` seconds, or does not answer
        within `policy.start_timeout` seconds of a restart."""
        now = time.monotonic()
        for service in self.services():
            process = self.processes.get(service.name)
            if process is None or self.stopping.is_set():
                continue
            watch = self._watches.setdefault(service.name, _Watch(started_at=now))
            if watch.restart_at is not None:
                self._restart_when_due(service, process, watch, now)
            elif process.poll() is not None:
                why = f"exited ({exit_reason(process.returncode)})"
                self._went_down(service.name, process, watch, why, now)
            else:
                self._check_health(service, process, watch, now)

    def _check_health(
        self, service: Service, process: subprocess.Popen, watch: _Watch, now: float
    ) -> None:
        policy = self.policy
        probe = watch.probe
        if probe is not None and probe.done.is_set():
            watch.probe = None
            if probe.ok:
                if watch.answered_at is None and watch.restarts:
                    self._say(f"{service.name} is up again ({public_url(service.health_url)})")
                watch.answered_at = now
                watch.healthy_since = watch.healthy_since or now
                if now - watch.healthy_since >= policy.stable_after:
                    watch.in_a_row = 0
            else:
                watch.healthy_since = None
        if watch.probe is None and now - watch.probed_at >= policy.probe_every:
            watch.probe = _Probe(service.health_url, policy.probe_timeout)
            watch.probed_at = now
        if watch.answered_at is None:
            if now - watch.started_at > policy.start_timeout:
                raise CrashLoop(
                    f"{service.name} has not answered its health check "
                    f"({public_url(service.health_url)}) within {policy.start_timeout:g} s "
                    "of its restart"
                )
        elif now - watch.answered_at > policy.hang_after:
            _signal_group(process.pid, signal.SIGKILL)  # a stopped process takes no SIGTERM
            why = f"has not answered its health check for {policy.hang_after:g} s (hung); killed it"
            self._went_down(service.name, process, watch, why, now)

    def _went_down(
        self, name: str, process: subprocess.Popen, watch: _Watch, why: str, now: float
    ) -> None:
        policy = self.policy
        watch.exits.append(now)
        while now - watch.exits[0] > policy.window:
            watch.exits.popleft()
        watch.probe, watch.answered_at, watch.healthy_since = None, None, None
        if len(watch.exits) >= policy.max_exits:
            raise CrashLoop(
                f"{name} {why}: {len(watch.exits)} times within {policy.window:g} s, a crash loop"
            )
        delay = policy.delay(watch.in_a_row)
        watch.in_a_row += 1
        watch.restarts += 1
        watch.restart_at = now + delay
        # The workers it left behind (holding its port) get the delay to end, then SIGKILL.
        _signal_group(process.pid, signal.SIGTERM)
        self._say(f"{name} {why}; restarting in {delay:g} s (restart {watch.restarts})")

    def _restart_when_due(
        self, service: Service, process: subprocess.Popen, watch: _Watch, now: float
    ) -> None:
        assert watch.restart_at is not None
        if now < watch.restart_at:
            return
        if process.poll() is None or _group_alive(process.pid):
            _signal_group(process.pid, signal.SIGKILL)  # what the delay did not end
            return  # started in a later round, once the group is empty
        self._launch(service)
        watch.restart_at, watch.started_at, watch.probed_at = None, now, float("-inf")

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
                    self._say(f"{name} is up ({public_url(service.health_url)})")
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
        self._watches.clear()

    def _say(self, message: str) -> None:
        if self.echo:
            _print(f"==> {message}")


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_foreground(
    workers: int = 1,
    services: Optional[Sequence[Service]] = None,
    grace: float = 15.0,
    policy: Optional[RestartPolicy] = None,
) -> int:
    """`make run`: start everything, print where to go, restart a server that dies or hangs,
    stop everything on Ctrl-C (exit 0) or on a crash loop (exit 1). With `workers` > 1 (`make
    run-scaled`), each server runs that many processes on its port, with conversations in
    PostgreSQL and their locks in Redis. `services` replaces the three servers (tests of the
    supervisor); `grace`: seconds each server gets after SIGTERM; `policy`: when to restart."""
    keep_private()  # var/, the database, logs: the supervisor's and its servers' files
    if services is None:
        tighten(VAR_DIR, ENV_FILE)  # what an older version left readable to others
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
    stack = Stack(workers=workers, services=services, policy=policy)
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
            stack.supervise()
            time.sleep(0.2)
    except StopRequested:
        pass
    except CrashLoop as error:
        _print(f"==> Giving up: {error}; stopping everything", sys.stderr)
        code = 1
    except (RuntimeError, TimeoutError, FileNotFoundError) as error:
        _print(f"==> Could not start: {error}", sys.stderr)
        code = 1
    finally:
        if stack.processes:
            _print("")
        stack.stop()  # returns only once every server has ended
        _print("==> Stopped.")
    return code
