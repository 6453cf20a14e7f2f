"""How the stack starts its servers: where they listen, and that the token always parses."""

from dataclasses import replace

import pytest
from rasa.__main__ import create_argument_parser

from bot.core.settings import load_settings
from bot.devtools.stack import actions_service, rasa_service, services


@pytest.mark.parametrize("token", ["-starts-with-a-dash", "plain0123", "--double"])
def test_rasa_gets_the_api_token_whatever_it_starts_with(token):
    settings = replace(load_settings(), rasa_api_token=token)
    command = rasa_service(settings, 5005).command
    args = create_argument_parser().parse_args(command[3:])  # after `python -m bot.rasa.entry`
    assert args.auth_token == token and args.enable_api


def test_servers_listen_on_localhost_and_allow_only_the_site_origin(monkeypatch):
    for name in ("RASA_HOST", "ACTION_HOST", "WEB_HOST", "SITE_ORIGIN"):
        monkeypatch.delenv(name, raising=False)
    settings = replace(load_settings(), rasa_api_token="t")
    args = create_argument_parser().parse_args(rasa_service(settings, 5005).command[3:])
    assert args.interface == "127.0.0.1" and args.cors == [settings.site_origin]
    assert actions_service(settings, 5055).env == {"SANIC_HOST": "127.0.0.1"}
    web = services(settings)[2].command
    assert web[web.index("--host") + 1] == "127.0.0.1"


def test_hosts_can_be_opened_by_configuration(monkeypatch):
    monkeypatch.setenv("ACTION_HOST", "0.0.0.0")
    monkeypatch.setenv("SITE_ORIGIN", "https://www.videopro.example")
    settings = replace(load_settings(), rasa_api_token="t")
    assert actions_service(settings, 5055).env["SANIC_HOST"] == "0.0.0.0"
    args = create_argument_parser().parse_args(rasa_service(settings, 5005).command[3:])
    assert args.cors == ["https://www.videopro.example"]


def test_a_server_that_fails_to_start_takes_the_others_down(monkeypatch, tmp_path):
    """One server dying at start must not leave the rest holding their ports."""
    import sys

    import bot.devtools.stack as stack_module
    from bot.devtools.stack import Service, Stack

    alive = Service("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"],
                    "http://127.0.0.1:9/never")
    dead = Service("crasher", [sys.executable, "-c", "raise SystemExit(2)"],
                   "http://127.0.0.1:9/never")
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
