"""`python -m bot requests export` and `python -m bot outbox list`, as a lawyer would run them."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from bot.storage.db import make_engine
from bot.core.paths import ROOT
from bot.requests.store import RequestStore


def run_cli(database_url, *args):
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def filled(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run_cli(url, "db", "upgrade")
    store = RequestStore(make_engine(url), secret="s")
    deletion = store.submit("deletion", "a@example.com", details={"scope": "all"}, verified=True)
    store.submit("correction", "b@example.com",
                 details={"item": "name", "new_value": "Li Wei"})
    store.send_code("c@example.com", "conversation")
    store.engine.dispose()
    return url, deletion.reference


def test_export_json_has_every_request_and_field(filled):
    url, reference = filled
    rows = json.loads(run_cli(url, "requests", "export", "--format", "json"))
    assert [(r["type"], r["status"], r["email"]) for r in rows] == [
        ("deletion", "received", "a@example.com"), ("correction", "unverified", "b@example.com")]
    first = rows[0]
    assert first["reference"] == reference and first["details"] == {"scope": "all"}
    for field in ("created_at", "due_at"):
        assert first[field].endswith("+00:00")


def test_export_csv(filled):
    url, reference = filled
    rows = list(csv.DictReader(io.StringIO(run_cli(url, "requests", "export", "--format", "csv"))))
    assert list(rows[0]) == ["reference", "type", "status", "email", "created_at", "due_at",
                             "details"]
    assert rows[0]["reference"] == reference
    assert json.loads(rows[1]["details"]) == {"item": "name", "new_value": "Li Wei"}


def test_outbox_list_filters_by_address_and_speaks_json(filled):
    url, reference = filled
    text = run_cli(url, "outbox", "list")
    assert text.count("queued") == 3 and reference in text
    messages = json.loads(run_cli(url, "outbox", "list", "--to", "c@example.com", "--format",
                                  "json"))
    assert [m["subject"] for m in messages] == ["Your VideoPro verification code"]
    assert "verification code is" in messages[0]["body"]
