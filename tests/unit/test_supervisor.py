"""`python -m bot run`'s supervisor stops everything it started, whatever signals come and however
often, and restarts a server that dies or hangs: run_foreground() with three stand-in servers
(small HTTP servers on free ports that are slow to stop, or do not stop at all on SIGTERM, one of
them through a worker process it leaves behind), stopped the ways `make run` gets stopped, killed,
stopped with SIGSTOP, or crashing again and again. Each test checks that when the supervisor
exits, every stand-in process is gone and every port can be bound again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional, Set

import pytest

from bot.core.paths import ROOT
from bot.devtools.stack import child_environment, is_healthy

# argv: port, seconds before it listens, seconds it ignores SIGTERM for (-1: for ever), mode,
# the folder for its pid.
# "serve" answers GET with 200; "master" runs a "serve" worker in its own process group and on
# SIGTERM stops it, as uvicorn does; "abandon" exits on SIGTERM and leaves its worker running;
# "once" serves for 3 s and exits with code 3, and exits at once every later time it is started.
STANDIN = r"""
import os, signal, subprocess, sys, threading, time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, start_delay, term_delay, mode, piddir = (int(sys.argv[1]), float(sys.argv[2]),
                                               float(sys.argv[3]), sys.argv[4], sys.argv[5])
open(os.path.join(piddir, str(os.getpid())), "w").close()
if mode == "once":
    flag = os.path.join(piddir, f"once-{port}")
    if os.path.exists(flag):
        os._exit(3)
    open(flag, "w").close()
    threading.Timer(3, os._exit, (3,)).start()
    mode = "serve"


def note(text):
    try:
        os.write(1, f"{mode} {os.getpid()}: {text}\n".encode())
    except OSError:
        pass


if mode == "serve":
    def on_term(signum, frame):
        note("SIGTERM")
        if term_delay >= 0:
            threading.Timer(term_delay, os._exit, (0,)).start()

    signal.signal(signal.SIGTERM, on_term)
    time.sleep(start_delay)

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", port), Health)
    note("serving")
    server.serve_forever()
else:
    stopping = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    worker = subprocess.Popen([sys.executable, __file__, str(port), str(start_delay),
                               str(term_delay), "serve", piddir])
    forwarded = False
    while worker.poll() is None:
        if stopping and not forwarded:
            note("SIGTERM")
            if mode == "abandon":
                os._exit(0)
            worker.terminate()
            forwarded = True
        time.sleep(0.05)
"""

SUPERVISOR = r"""
import json, os, sys
from bot.devtools.stack import RestartPolicy, Service, run_foreground

config = json.loads(open(sys.argv[1]).read())
open(os.path.join(config["piddir"], str(os.getpid())), "w").close()
services = [Service(name, command, url) for name, command, url in config["services"]]
policy = RestartPolicy(**config["policy"])
sys.exit(run_foreground(services=services, grace=config["grace"], policy=policy))
"""


def free_ports(count: int) -> List[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def can_bind(port: int) -> bool:
    """As a server binds its port again (SO_REUSEADDR: closed connections may linger)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
    return True


def running(pid: int) -> bool:
    """Alive and not a zombie (a zombie holds no port; reaping orphans is init's job)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


class Supervised:
    """The supervisor in a session of its own (its process group, as `make run`'s would be),
    with stand-ins named actions, rasa and web: {name: (mode, start_delay, term_delay)}."""

    def __init__(
        self,
        tmp_path: Path,
        standins: Dict[str, tuple],
        grace: float,
        under_make: bool = False,
        policy: Optional[Dict[str, float]] = None,
    ) -> None:
        self.tmp_path, self.grace = tmp_path, grace
        self.piddir = tmp_path / "pids"
        self.piddir.mkdir()
        self.script = tmp_path / "standin.py"
        self.script.write_text(STANDIN)
        entry = tmp_path / "supervise.py"
        entry.write_text(SUPERVISOR)
        self.ports = dict(zip(standins, free_ports(len(standins)), strict=True))
        services = [
            [
                name,
                [
                    sys.executable,
                    str(self.script),
                    str(self.ports[name]),
                    str(start_delay),
                    str(term_delay),
                    mode,
                    str(self.piddir),
                ],
                f"http://127.0.0.1:{self.ports[name]}/health",
            ]
            for name, (mode, start_delay, term_delay) in standins.items()
        ]
        config = tmp_path / "config.json"
        config.write_text(
            json.dumps(
                {
                    "services": services,
                    "grace": grace,
                    "piddir": str(self.piddir),
                    "policy": policy or {},
                }
            )
        )
        command = [sys.executable, str(entry), str(config)]
        if under_make:  # as `make run` runs it: make passes SIGTERM on to the supervisor again
            makefile = tmp_path / "Makefile"
            makefile.write_text(f"run:\n\t{' '.join(command)}\n")
            command = ["make", "--no-print-directory", "-f", str(makefile), "run"]
        self.log = tmp_path / "supervisor.log"
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=child_environment(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert self.process.poll() is None, f"supervisor exited:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {text!r} in:\n{self.output()}"
            time.sleep(0.1)

    def pids(self) -> List[int]:
        return [int(p.name) for p in self.piddir.iterdir() if p.name.isdigit()]

    def running_pids(self, name: str) -> Set[int]:
        """The stand-in `name`'s processes that run now (its server and any worker)."""
        port = str(self.ports[name]).encode()
        found = set()
        for pid in self.pids():
            try:
                arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if running(pid) and port in arguments:
                found.add(pid)
        return found

    def leader(self, name: str) -> int:
        """The stand-in server `name` itself, the leader of its process group."""
        [pid] = [pid for pid in self.running_pids(name) if os.getpgid(pid) == pid]
        return pid

    def answers(self, name: str) -> bool:
        return is_healthy(f"http://127.0.0.1:{self.ports[name]}/health", timeout=2)

    def signal_group(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)

    def signal_supervisor(self, signum: int) -> None:
        os.kill(self.process.pid, signum)

    def assert_everything_stopped(self) -> None:
        """Right as the supervisor has exited: nothing it started runs, every port is free."""
        still = [pid for pid in self.pids() if running(pid)]
        assert not still, f"still running: {still}\n{self.output()}"
        taken = [port for port in self.ports.values() if not can_bind(port)]
        assert not taken, f"ports still taken: {taken}\n{self.output()}"

    def cleanup(self) -> None:
        """Whatever a failing test left: only this test's own processes, by their ids."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for pid in self.pids():
            try:
                if running(pid) and str(self.tmp_path) in Path(f"/proc/{pid}/cmdline").read_text():
                    os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


# -- the scenarios ----------------------------------------------------------------------------
#
# Each takes 3-6 s, nearly all of it waiting: for the stand-ins to start, for the grace period,
# for servers that are slow to stop. Nothing is shared between them (each has its own folder,
# processes, process groups and free ports), so the `scenarios` fixture starts every selected
# one at once, each in a thread of its own, when the first test of this module runs, and each
# test waits for its own and reports its outcome: an assertion failing in a scenario fails its
# test with the scenario's traceback. The scenario of `test_<name>` is `<name>` below, called
# with the test's parameters; run one test alone (`-k`) and only its scenario is started.


def started_in(tmp_path: Path, made: List[Supervised]):
    def make(
        standins: Dict[str, tuple],
        grace: float,
        under_make: bool = False,
        policy: Optional[Dict[str, float]] = None,
    ) -> Supervised:
        made.append(Supervised(tmp_path, standins, grace, under_make, policy))
        return made[-1]

    return make


# Rasa ignores SIGTERM; the web app's master exits on SIGTERM and leaves a worker (in its process
# group) that ignores SIGTERM holding the port; the action server takes a moment.
STUBBORN = {"actions": ("serve", 0, 1.5), "rasa": ("serve", 0, -1), "web": ("abandon", 0, -1)}
# All three stop, slowly, on SIGTERM; the web app's master stops its worker first.
SLOW = {"actions": ("serve", 0, 1.5), "rasa": ("serve", 0, 1.5), "web": ("master", 0, 1.5)}


def repeated_signals_to_the_whole_group_still_stop_every_server(supervised, under_make):
    """`kill -TERM -PGID` of `make run`, make passing it on again, then Ctrl-C and more: the
    servers that do not stop are killed after the grace period, the left-behind worker with its
    server's group, and the supervisor exits only when all are gone."""
    stack = supervised(STUBBORN, grace=4, under_make=under_make)
    stack.wait_for("==> Ready.")
    assert len(stack.pids()) == 5  # the supervisor, three servers and the web app's worker
    started = time.monotonic()
    for signum in (signal.SIGTERM, signal.SIGTERM, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        stack.signal_group(signum)
        time.sleep(0.3)
    assert stack.process.poll() is None, "a signal during shutdown ended the supervisor early"
    code = stack.process.wait(timeout=30)
    assert code != 0 if under_make else code == 0  # make reports its recipe's interruption
    stack.assert_everything_stopped()
    assert time.monotonic() - started >= 4  # it waited the grace period for the stubborn ones
    output = stack.output()
    assert "rasa did not stop within 4s after SIGTERM: killing it" in output
    assert "web did not stop within 4s after SIGTERM: killing it" in output
    assert "actions did not stop" not in output
    assert "Already stopping" in output and "==> Stopped." in output


def repeated_signals_to_the_supervisor_alone_wait_for_slow_servers(supervised):
    stack = supervised(SLOW, grace=20)
    stack.wait_for("==> Ready.")
    started = time.monotonic()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGINT, signal.SIGTERM):
        stack.signal_supervisor(signum)
        time.sleep(0.2)
    assert stack.process.poll() is None
    assert stack.process.wait(timeout=30) == 0
    stack.assert_everything_stopped()
    assert time.monotonic() - started < 10  # they stopped by themselves: no waiting for the grace
    assert "did not stop" not in stack.output() and "Already stopping" in stack.output()


def a_signal_while_starting_stops_what_has_started(supervised):
    stack = supervised({**SLOW, "rasa": ("serve", 60, 1.5)}, grace=20)  # Rasa takes its time
    stack.wait_for("==> web is up")
    stack.signal_group(signal.SIGINT)
    time.sleep(0.3)
    stack.signal_group(signal.SIGTERM)
    assert stack.process.wait(timeout=30) == 0
    stack.assert_everything_stopped()
    assert "Ready" not in stack.output()


def servers_stop_when_the_supervisor_is_killed(supervised):
    stack = supervised(SLOW, grace=20)
    stack.wait_for("==> Ready.")
    stack.signal_supervisor(signal.SIGKILL)
    stack.process.wait(timeout=10)
    deadline = time.monotonic() + 15
    while any(running(pid) for pid in stack.pids()) and time.monotonic() < deadline:
        time.sleep(0.1)
    stack.assert_everything_stopped()


# -- restarts: short delays and timeouts, so that each scenario takes seconds ---------------------

# Unanswered health checks for 1.5 s after answering: hung. A check every 0.2 s, waiting 1 s.
QUICK = {"first_delay": 0.5, "hang_after": 1.5, "probe_every": 0.2, "probe_timeout": 1.0}


def a_killed_server_is_restarted_and_the_others_are_left_alone(supervised, victim):
    """kill -9 of the action server, which then takes 2 s to listen again (longer than a hang:
    loading is not hanging), or of the web app's master, which leaves behind a worker that
    ignores SIGTERM and holds the port: only the victim is restarted, once, and answers again;
    the worker is killed before the new master starts."""
    standins = {**SLOW, "actions": ("serve", 2, 1.5), "web": ("master", 0, -1)}
    stack = supervised(standins, grace=3, policy=QUICK)
    stack.wait_for("==> Ready.")
    others = {name: stack.running_pids(name) for name in standins if name != victim}
    before = stack.running_pids(victim)
    assert len(before) == (2 if victim == "web" else 1)
    os.kill(stack.leader(victim), signal.SIGKILL)
    stack.wait_for(f"==> {victim} exited (killed by SIGKILL); restarting in 0.5 s (restart 1)")
    stack.wait_for(f"==> {victim} is up again (http://127.0.0.1:{stack.ports[victim]}/health)")
    assert stack.answers(victim)
    assert not stack.running_pids(victim) & before  # the left-behind worker too
    assert {name: stack.running_pids(name) for name in others} == others  # untouched
    output = stack.output()
    assert "restart 2" not in output and "hung" not in output
    assert [name for name in others if f"{name} exited" in output] == []
    stack.signal_supervisor(signal.SIGTERM)
    assert stack.process.wait(timeout=30) == 0
    stack.assert_everything_stopped()


def a_server_that_keeps_exiting_is_a_crash_loop(supervised):
    """The action server answers, exits with code 3 after 3 s, then exits at once each time it
    is restarted: the fifth exit within the window is a crash loop; everything is stopped and
    the supervisor exits 1, saying why."""
    policy = {**QUICK, "first_delay": 0.1, "max_exits": 5, "window": 60}
    stack = supervised({**SLOW, "actions": ("once", 0, 1.5)}, grace=5, policy=policy)
    stack.wait_for("==> Ready.")
    assert stack.process.wait(timeout=60) == 1
    stack.assert_everything_stopped()
    output = stack.output()
    assert "==> actions exited (exit code 3); restarting in 0.1 s (restart 1)" in output
    assert "restarting in 0.8 s (restart 4)" in output and "restart 5" not in output
    assert (
        "==> Giving up: actions exited (exit code 3): 5 times within 60 s, a crash loop; "
        "stopping everything" in output
    )
    assert "==> Stopped." in output and "rasa exited" not in output


def a_stop_during_the_wait_before_a_restart_stops_everything_at_once(supervised):
    stack = supervised(SLOW, grace=20, policy={**QUICK, "first_delay": 60, "max_delay": 60})
    stack.wait_for("==> Ready.")
    killed = stack.leader("actions")
    os.kill(killed, signal.SIGKILL)
    stack.wait_for("==> actions exited (killed by SIGKILL); restarting in 60 s (restart 1)")
    started = time.monotonic()
    stack.signal_supervisor(signal.SIGTERM)
    assert stack.process.wait(timeout=30) == 0
    assert time.monotonic() - started < 10  # not the 60 s wait, nor the 20 s grace
    stack.assert_everything_stopped()
    # The supervisor, three servers and the web app's worker: the action server never again.
    assert len(stack.pids()) == 5 and killed in stack.pids()


def a_hung_server_is_killed_and_restarted(supervised):
    """SIGSTOP: the action server still holds its port, accepts connections and answers none."""
    stack = supervised(SLOW, grace=5, policy=QUICK)
    stack.wait_for("==> Ready.")
    others = {name: stack.running_pids(name) for name in ("rasa", "web")}
    hung = stack.leader("actions")
    os.kill(hung, signal.SIGSTOP)
    stack.wait_for(
        "==> actions has not answered its health check for 1.5 s (hung); killed it; "
        "restarting in 0.5 s (restart 1)"
    )
    stack.wait_for("==> actions is up again")
    assert stack.answers("actions") and not running(hung)
    assert {name: stack.running_pids(name) for name in others} == others
    stack.signal_supervisor(signal.SIGINT)
    assert stack.process.wait(timeout=30) == 0
    stack.assert_everything_stopped()


class Scenarios:
    """The scenarios of the selected tests, all started at once."""

    def __init__(self, items: List[pytest.Item], tmp_path_factory: pytest.TempPathFactory) -> None:
        self.pool = ThreadPoolExecutor(max_workers=max(1, len(items)))
        self.outcomes: Dict[str, Future] = {}
        for item in items:
            name = item.originalname[len("test_") :]
            callspec = getattr(item, "callspec", None)
            params = dict(callspec.params) if callspec else {}
            folder = tmp_path_factory.mktemp(name[:40])
            self.outcomes[item.nodeid] = self.pool.submit(
                self._run, globals()[name], params, folder
            )

    @staticmethod
    def _run(scenario, params: Dict[str, object], folder: Path) -> None:
        made: List[Supervised] = []
        try:
            scenario(started_in(folder, made), **params)
        finally:
            for one in made:
                one.cleanup()

    def outcome(self, item: pytest.Item) -> None:
        """Waits for the item's scenario; its failure, if any, is raised here."""
        self.outcomes[item.nodeid].result(timeout=180)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


@pytest.fixture(scope="module")
def scenarios(request, tmp_path_factory):
    here = [
        item
        for item in request.session.items
        if item.module is request.module
        and "scenarios" in item.fixturenames
        and not any(mark.args and mark.args[0] for mark in item.iter_markers("skipif"))
    ]
    scenarios = Scenarios(here, tmp_path_factory)
    yield scenarios
    scenarios.close()


# -- the tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("under_make", [False, True], ids=["supervisor", "under-make"])
def test_repeated_signals_to_the_whole_group_still_stop_every_server(
    scenarios, request, under_make
):
    scenarios.outcome(request.node)


def test_repeated_signals_to_the_supervisor_alone_wait_for_slow_servers(scenarios, request):
    scenarios.outcome(request.node)


def test_a_signal_while_starting_stops_what_has_started(scenarios, request):
    scenarios.outcome(request.node)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_servers_stop_when_the_supervisor_is_killed(scenarios, request):
    scenarios.outcome(request.node)


@pytest.mark.parametrize("victim", ["actions", "web"])
def test_a_killed_server_is_restarted_and_the_others_are_left_alone(scenarios, request, victim):
    scenarios.outcome(request.node)


def test_a_server_that_keeps_exiting_is_a_crash_loop(scenarios, request):
    scenarios.outcome(request.node)


def test_a_stop_during_the_wait_before_a_restart_stops_everything_at_once(scenarios, request):
    scenarios.outcome(request.node)


def test_a_hung_server_is_killed_and_restarted(scenarios, request):
    scenarios.outcome(request.node)
