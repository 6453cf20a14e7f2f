"""E-mail addresses, transcripts, codes and secrets are readable by their owner alone: the request
database, var/ and .env are created private whatever the umask of whoever creates them, what an
older version left open is tightened at start, and the stack's servers create private files."""

from __future__ import annotations

import os
import socket
import stat
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.private_files import tighten
from bot.core.settings import ensure_env_file
from bot.devtools.stack import Service, Stack
from bot.storage.db import make_engine, upgrade


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def open_umask():
    """The usual umask (022: files readable by everyone), put back after the test."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_database_created_through_the_project_is_0600_in_a_0700_folder(tmp_path, open_umask):
    var = tmp_path / "var"
    database = var / "requests.db"
    upgrade(f"sqlite:///{database}")
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:  # a write: WAL mode makes its -wal and -shm files
        connection.execute(text("CREATE TABLE scratch (x INTEGER)"))
        connection.execute(text("INSERT INTO scratch VALUES (1)"))
        written = {p.name: mode(p) for p in var.iterdir()}  # before closing removes -wal
    engine.dispose()
    assert mode(var) == 0o700
    assert written == {
        "requests.db": 0o600,
        "requests.db-shm": 0o600,
        "requests.db-wal": 0o600,
    }


def test_an_existing_database_left_readable_is_tightened_when_opened(tmp_path, open_umask):
    database = tmp_path / "old.db"
    database.touch()
    database.chmod(0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert mode(database) == 0o600


def test_what_an_older_version_left_open_is_tightened(tmp_path, open_umask):
    var = tmp_path / "var"
    (var / "bench" / "stock").mkdir(parents=True)
    (var / "requests.db").write_text("addresses")
    script = var / "bench" / "stock" / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    elsewhere = tmp_path / "shared.txt"
    elsewhere.write_text("not ours to change")
    (var / "link").symlink_to(elsewhere)
    env = tmp_path / ".env"
    env.write_text("APP_SECRET=x\n")
    assert mode(var / "requests.db") == 0o644 and mode(var / "bench") == 0o755

    assert tighten(var, env, tmp_path / "missing") == 6
    assert mode(var) == mode(var / "bench") == mode(var / "bench" / "stock") == 0o700
    assert mode(var / "requests.db") == mode(env) == 0o600
    assert mode(script) == 0o700  # still its owner's to run
    assert mode(elsewhere) == 0o644  # a link is not followed
    assert tighten(var, env) == 0


def test_env_is_written_0600_and_an_open_one_is_tightened(tmp_path, open_umask):
    env = tmp_path / ".env"
    assert ensure_env_file(env) == ["RASA_API_TOKEN", "APP_SECRET"]
    assert mode(env) == 0o600
    env.chmod(0o644)
    assert ensure_env_file(env) == []  # nothing to add, still tightened
    assert mode(env) == 0o600


WRITER = r"""
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

open(sys.argv[2], "w").write("a transcript")
print("written", flush=True)


class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""


def test_the_stacks_servers_and_logs_create_private_files(tmp_path, open_umask):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    written = tmp_path / "written.txt"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    server = Service(
        "writer",
        [sys.executable, str(script), str(port), str(written)],
        f"http://127.0.0.1:{port}/health",
    )
    logs = tmp_path / "logs"
    stack = Stack(echo=False, log_dir=logs, services=[server])
    try:
        stack.start(timeout=30)
    finally:
        stack.stop(grace=5)
    assert mode(written) == 0o600
    assert mode(logs) == 0o700 and mode(logs / "writer.log") == 0o600
    assert "written" in (logs / "writer.log").read_text()
