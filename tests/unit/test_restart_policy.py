"""When `Stack.supervise` restarts a server and when it gives up, over minutes of a clock the test
moves: the delay doubles up to its cap and starts again after a stable spell; exits spread out
are not a crash loop; a server that never answers after a restart is given up on; loading is not
a hang. (tests/unit/test_supervisor.py runs the same supervisor on real processes.)"""

from __future__ import annotations

import re
from typing import Dict, List, Optional

import pytest

import bot.devtools.stack as stack_module
from bot.devtools.stack import CrashLoop, RestartPolicy, Service, Stack


def test_the_delay_doubles_up_to_its_cap():
    assert [RestartPolicy().delay(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]


class FakeProcess:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: Optional[int] = None

    def poll(self) -> Optional[int]:
        return self.returncode


class Harness:
    """One server `svc` under a Stack whose clock, processes and health checks are the test's."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, policy: RestartPolicy) -> None:
        self.now = 1000.0
        self.answering = True
        self.said: List[str] = []
        self.next_pid = 100
        harness = self

        class Probe:
            def __init__(self, url: str, timeout: float) -> None:
                self.ok = harness.answering
                self.done = self

            def is_set(self) -> bool:
                return True

        monkeypatch.setattr(stack_module.time, "monotonic", lambda: self.now)
        monkeypatch.setattr(stack_module, "_Probe", Probe)
        monkeypatch.setattr(stack_module, "_signal_group", lambda pid, signum: None)
        monkeypatch.setattr(stack_module, "_group_alive", lambda pid: False)
        service = Service("svc", ["never-run"], "http://127.0.0.1:9/health?token=secret")
        self.stack = Stack(echo=False, services=[service], policy=policy)
        self.stack._say = self.said.append  # type: ignore[method-assign]
        self.stack._launch = lambda service: self.launch()  # type: ignore[method-assign]
        self.launch()
        self.stack._watches = {
            "svc": stack_module._Watch(started_at=self.now, answered_at=self.now)
        }

    def launch(self) -> None:
        self.next_pid += 1
        self.stack.processes["svc"] = FakeProcess(self.next_pid)  # type: ignore[assignment]

    def run(self, seconds: float, step: float = 0.2) -> None:
        end = self.now + seconds
        while self.now < end:
            self.now += step
            self.stack.supervise()

    def kill(self) -> None:
        self.stack.processes["svc"].returncode = -9

    def delays(self) -> List[float]:
        return [float(d) for d in re.findall(r"restarting in ([\d.]+) s", " ".join(self.said))]


def test_the_delay_starts_again_after_a_stable_spell_and_exits_spread_out_are_no_loop(
    monkeypatch,
):
    policy = RestartPolicy(stable_after=30, max_exits=3, window=60)
    harness = Harness(monkeypatch, policy)
    for _ in range(2):  # two quick deaths: 1 s, then 2 s
        harness.kill()
        harness.run(5)
    assert harness.delays() == [1, 2]
    assert harness.said[-1] == "svc is up again (http://127.0.0.1:9/health)"  # no token printed
    harness.run(61)  # healthy for over 30 s
    harness.kill()
    harness.run(10)  # the third death, 70 s after the first: no crash loop
    assert harness.delays() == [1, 2, 1]
    assert "restart 3" in harness.said[-2]


def test_the_fifth_exit_within_the_window_is_a_crash_loop(monkeypatch):
    harness = Harness(monkeypatch, RestartPolicy())
    with pytest.raises(CrashLoop, match=r"svc exited \(killed by SIGKILL\): 5 times within 150 s"):
        for _ in range(5):
            harness.kill()
            harness.run(20)
    assert harness.delays() == [1, 2, 4, 8]


def test_loading_is_not_a_hang_but_never_answering_after_a_restart_is_given_up(monkeypatch):
    harness = Harness(monkeypatch, RestartPolicy(hang_after=25, start_timeout=300))
    harness.kill()
    harness.answering = False  # the restarted server loads for ever
    harness.run(299)
    assert "hung" not in " ".join(harness.said) and harness.delays() == [1]
    with pytest.raises(CrashLoop, match="svc has not answered its health check .* within 300 s"):
        harness.run(5)


def test_a_server_that_stops_answering_is_killed_after_hang_after(monkeypatch):
    killed: Dict[int, int] = {}
    harness = Harness(monkeypatch, RestartPolicy(hang_after=25))
    monkeypatch.setattr(
        stack_module, "_signal_group", lambda pid, signum: killed.setdefault(pid, signum)
    )
    first = harness.stack.processes["svc"].pid
    harness.answering = False
    harness.run(24.8)
    assert killed == {} and harness.said == []
    harness.run(1)
    assert killed[first] == stack_module.signal.SIGKILL
    assert harness.said == [
        "svc has not answered its health check for 25 s (hung); killed it; "
        "restarting in 1 s (restart 1)"
    ]
