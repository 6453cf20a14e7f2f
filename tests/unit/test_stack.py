"""How the stack starts its servers: where they listen, and that the token always parses."""

from dataclasses import replace

import pytest
from rasa.__main__ import create_argument_parser

from bot.core.settings import load_settings
from bot.devtools.stack import (
    actions_service,
    child_environment,
    public_url,
    rasa_service,
    services,
)
from bot.rasa.entry import with_api_token


@pytest.mark.parametrize("token", ["-starts-with-a-dash", "plain0123", "--double"])
def test_rasa_gets_the_api_token_whatever_it_starts_with(token):
    """From its environment, added to the arguments inside the process (bot.rasa.entry)."""
    settings = replace(load_settings(), rasa_api_token=token)
    service = rasa_service(settings, 5005)
    assert service.env["RASA_API_TOKEN"] == token
    arguments = with_api_token(service.command[3:], service.env["RASA_API_TOKEN"])
    args = create_argument_parser().parse_args(arguments)  # after `python -m bot.rasa.entry`
    assert args.auth_token == token and args.enable_api


@pytest.mark.parametrize("workers, scaled", [(1, False), (2, True)])
def test_no_server_has_the_api_token_on_its_command_line(workers, scaled):
    """`ps` shows every command line to everyone; the token is in Rasa's environment only."""
    token = "s3cret-api-token-0123456789abcdef"
    settings = replace(load_settings(), rasa_api_token=token)
    started = services(settings, workers=workers, scaled=scaled)
    assert not [arg for service in started for arg in service.command if token in arg]
    assert {s.name for s in started if token in s.env.values()} == {"rasa"}
    assert not [s for s in started if token in public_url(s.health_url)]


def test_servers_listen_on_localhost_and_allow_only_the_site_origin(set_env):
    set_env(RASA_HOST=None, ACTION_HOST=None, WEB_HOST=None, SITE_ORIGIN=None)
    settings = replace(load_settings(), rasa_api_token="t")
    args = create_argument_parser().parse_args(rasa_service(settings, 5005).command[3:])
    assert args.interface == "127.0.0.1" and args.cors == [settings.site_origin]
    assert actions_service(settings, 5055).env == {"SANIC_HOST": "127.0.0.1"}
    web = services(settings)[2].command
    assert web[web.index("--host") + 1] == "127.0.0.1"


def test_hosts_can_be_opened_by_configuration(set_env):
    set_env(ACTION_HOST="0.0.0.0", SITE_ORIGIN="https://www.videopro.example")
    settings = replace(load_settings(), rasa_api_token="t")
    assert actions_service(settings, 5055).env["SANIC_HOST"] == "0.0.0.0"
    args = create_argument_parser().parse_args(rasa_service(settings, 5005).command[3:])
    assert args.cors == ["https://www.videopro.example"]


def test_a_server_that_fails_to_start_takes_the_others_down(monkeypatch, tmp_path):
    """One server dying at start must not leave the rest holding their ports."""
    import sys

    import bot.devtools.stack as stack_module
    from bot.devtools.stack import Service, Stack

    alive = Service(
        "sleeper",
        [sys.executable, "-c", "import time; time.sleep(600)"],
        "http://127.0.0.1:9/never",
    )
    dead = Service(
        "crasher", [sys.executable, "-c", "raise SystemExit(2)"], "http://127.0.0.1:9/never"
    )
    monkeypatch.setattr(stack_module, "services", lambda *args, **kwargs: [alive, dead])
    monkeypatch.setattr(stack_module, "upgrade", lambda *args, **kwargs: None)
    settings = replace(load_settings(), model_path=tmp_path / "model.tar.gz")
    settings.model_path.write_bytes(b"")
    started = []
    real_popen = stack_module.subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real_popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(stack_module.subprocess, "Popen", popen)
    stack = Stack(settings, echo=False)
    with pytest.raises(RuntimeError, match="crasher exited"):
        stack.start(timeout=30)
    assert len(started) == 2 and all(p.poll() is not None for p in started)
    assert stack.processes == {}


def test_the_bench_writes_its_figures_where_no_folder_is_yet(tmp_path):
    """A fresh checkout has no results/: writing results/bench.json must not end the run."""
    import json

    from bot.devtools.bench import write_json

    target = tmp_path / "results" / "deeper" / "bench.json"
    write_json(target, {"results": {"ours": {"throughput": 1.5}}})
    assert json.loads(target.read_text()) == {"results": {"ours": {"throughput": 1.5}}}
    write_json(target, {"again": True})  # and into a folder that is there
    assert json.loads(target.read_text()) == {"again": True}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "argv, seen",
    [(["--encoder-cache-size", "0"], "0"), (["--encoder-cache-size", "64"], "64"), ([], "unset")],
)
def test_the_bench_passes_the_encoder_cache_size_to_the_stack_it_starts(
    monkeypatch, tmp_path, argv, seen
):
    """Through the Stack's environment to its servers, without measuring anything: a stand-in
    server writes down what it got and exits, which ends the start."""
    import sys

    import bot.devtools.bench as bench
    from bot.devtools.stack import Service, Stack

    monkeypatch.delenv("ENCODER_CACHE_SIZE", raising=False)
    got = tmp_path / "got"
    probe = Service(
        "probe",
        [
            sys.executable,
            "-c",
            "import os, sys; open(sys.argv[1], 'w')"
            ".write(os.environ.get('ENCODER_CACHE_SIZE', 'unset'))",
            str(got),
        ],
        f"http://127.0.0.1:{_free_port()}/health",
    )
    monkeypatch.setattr(bench, "Stack", lambda **kwargs: Stack(services=[probe], **kwargs))
    with pytest.raises(RuntimeError, match="probe exited with code 0"):
        bench.main([*argv, "--no-stock"])
    assert got.read_text() == seen


def test_the_bench_will_not_label_a_running_stack_with_a_cache_size(monkeypatch):
    import bot.devtools.bench as bench

    monkeypatch.setattr(bench.Stack, "all_healthy", lambda self: True)
    monkeypatch.setattr(bench.Stack, "start", lambda self, *a, **k: pytest.fail("started"))
    assert bench.main(["--encoder-cache-size", "0", "--no-stock"]) == 2


@pytest.mark.parametrize("argv", [["--scaled"], ["--workers", "2"]])
def test_the_bench_will_not_measure_a_running_stack_as_the_scaled_one(monkeypatch, capsys, argv):
    """`make bench` with `make run` going: the scaled runs must not measure the plain stack."""
    import bot.devtools.bench as bench

    monkeypatch.setattr(bench.Stack, "all_healthy", lambda self: True)
    monkeypatch.setattr(bench.Stack, "start", lambda self, *a, **k: pytest.fail("started"))
    monkeypatch.setattr(bench, "measure", lambda *a, **k: pytest.fail("measured"))
    assert bench.main([*argv, "--no-stock"]) == 2
    assert "stop it" in capsys.readouterr().err


def test_the_bench_header_says_how_the_encoder_cache_was_set():
    from bot.devtools.bench import encoder_cache_note

    assert encoder_cache_note(0, chosen=True) == "encoder cache: 0 (off)"
    assert encoder_cache_note(512, chosen=True) == "encoder cache: 512"
    assert encoder_cache_note(2048, chosen=False) == "encoder cache: 2048 (the stack's setting)"
    assert encoder_cache_note(None, chosen=False) == "encoder cache: as the running stack has it"


def test_the_web_app_is_served_from_its_factory_and_the_bench_finds_it():
    from bot.devtools.bench import PROCESS_GROUPS

    web = services(replace(load_settings(), rasa_api_token="t"))[2].command
    assert web[web.index("uvicorn") + 1 : web.index("uvicorn") + 3] == [
        "--factory",
        "bot.web.app:serve",
    ]
    command = " ".join(web)
    assert [name for name, matches in PROCESS_GROUPS if matches(command)] == ["web"]


def test_the_scaled_stack_takes_what_is_set_and_defaults_the_rest():
    from bot.core.settings import Settings
    from bot.devtools.stack import scaled_environment

    settings = Settings.from_sources(
        {"REDIS_HOST": "redis.internal", "SANIC_WORKERS": "3"},
        {"TRACKER_DB_PASSWORD": "pw", "ACTION_PORT": "6055"},
    )
    env = scaled_environment(settings, 2)
    assert env["REDIS_HOST"] == "redis.internal" and env["TRACKER_DB_PASSWORD"] == "pw"
    assert env["SANIC_WORKERS"] == "3" and env["ACTION_SERVER_SANIC_WORKERS"] == "2"
    assert env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:6055/webhook"
    assert env["DATABASE_URL"] == "postgresql://postgres@127.0.0.1:5432/videopro_requests"
    assert env["TRACKER_DB_NAME"] == "videopro_tracker" and env["REDIS_DB"] == "1"


def test_children_get_one_openblas_thread_unless_the_environment_says_otherwise(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert child_environment()["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert child_environment()["OPENBLAS_NUM_THREADS"] == "2"
