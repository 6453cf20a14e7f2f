"""The command line: its parser (every command's help, wrong commands, what each command imports)
and `python -m bot requests export` and `python -m bot outbox list`, as a lawyer would run them."""

import argparse
import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest

from bot.cli import main as cli
from bot.core.paths import ROOT
from bot.requests.store import RequestStore
from bot.storage.db import make_engine


def run_cli(database_url, *args):
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A database made by `python -m bot db upgrade`, with two requests and a code in it. The
    tests only read it (exports, the outbox list), so it is made once for the module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}"
    run_cli(url, "db", "upgrade")
    store = RequestStore(make_engine(url), secret="s")
    deletion = store.submit("deletion", "a@example.com", details={"scope": "all"}, verified=True)
    store.submit("correction", "b@example.com", details={"item": "name", "new_value": "Li Wei"})
    store.send_code("c@example.com", "conversation")
    store.engine.dispose()
    return url, deletion.reference


def test_export_json_has_every_request_and_field(filled):
    url, reference = filled
    rows = json.loads(run_cli(url, "requests", "export", "--format", "json"))
    assert [(r["type"], r["status"], r["email"]) for r in rows] == [
        ("deletion", "received", "a@example.com"),
        ("correction", "unverified", "b@example.com"),
    ]
    first = rows[0]
    assert first["reference"] == reference and first["details"] == {"scope": "all"}
    for field in ("created_at", "due_at"):
        assert first[field].endswith("+00:00")


def test_export_csv(filled):
    url, reference = filled
    rows = list(csv.DictReader(io.StringIO(run_cli(url, "requests", "export", "--format", "csv"))))
    assert list(rows[0]) == [
        "reference",
        "type",
        "status",
        "email",
        "created_at",
        "due_at",
        "details",
    ]
    assert rows[0]["reference"] == reference
    assert json.loads(rows[1]["details"]) == {"item": "name", "new_value": "Li Wei"}


def test_outbox_list_filters_by_address_and_speaks_json(filled):
    url, reference = filled
    text = run_cli(url, "outbox", "list")
    assert text.count("queued") == 3 and reference in text
    messages = json.loads(
        run_cli(url, "outbox", "list", "--to", "c@example.com", "--format", "json")
    )
    assert [m["subject"] for m in messages] == ["Your VideoPro verification code"]
    assert "verification code is" in messages[0]["body"]


# -- the parser ---------------------------------------------------------------------------------


def run_bot(*args):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def subcommands(parser, words=()):
    """Every command line the parser knows, nested ones included (`staff add`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*words, name)
                yield from subcommands(sub, (*words, name))


COMMANDS = list(subcommands(cli.build_parser()))
# What each delegated command's own parser offers: its help is the module's, not a stub.
OWN_OPTION = {
    "eval": "--min-accuracy",
    "bench": "--concurrency",
    "soak": "--visitors",
    "calibrate": "--direct-precision",
    "compare": "--folds",
    "pipeline": "--output",
    "parts": "--scale",
    "silence": "--precision",
}


def test_the_parser_has_every_command_of_the_readme():
    assert {words[0] for words in COMMANDS} == {
        "run",
        "eval",
        "env",
        "pipeline",
        "policy",
        "db",
        "requests",
        "fulfilment",
        "outbox",
        "staff",
        "handoffs",
        "bench",
        "soak",
        "purge",
        "due",
        "calibrate",
        "compare",
        "audit",
        "parts",
        "silence",
    }
    assert {words for words in COMMANDS if len(words) == 2} == {
        ("db", "upgrade"),
        ("requests", "export"),
        ("fulfilment", "start"),
        ("fulfilment", "deliver"),
        ("fulfilment", "show"),
        ("outbox", "list"),
        ("outbox", "deliver"),
        ("staff", "add"),
        ("staff", "list"),
        ("staff", "disable"),
        ("staff", "password"),
        ("staff", "end-sessions"),
        ("handoffs", "list"),
        ("audit", "verify"),
        ("staff", "two-factor"),
    }


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_subcommand_has_its_help(words, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([*words, "--help"])
    assert done.value.code in (0, None)
    out = capsys.readouterr().out
    assert out.startswith("usage: ")
    if words[0] in OWN_OPTION:
        assert OWN_OPTION[words[0]] in out
    if words[0] != "pipeline":  # its parser is named after sys.argv[0]
        assert out.startswith(f"usage: python -m bot {' '.join(words)}")


def test_help_lists_every_command_with_a_one_line_description():
    done = run_bot("-m", "bot", "--help")
    assert done.returncode == 0, done.stderr
    for name in {words[0] for words in COMMANDS}:
        assert re.search(rf"^    {name} +\S.*$", done.stdout, re.MULTILINE), name


def test_a_wrong_command_exits_2_with_argparses_message():
    done = run_bot("-m", "bot", "nonsense")
    assert done.returncode == 2 and done.stdout == ""
    assert "invalid choice: 'nonsense'" in done.stderr and "Traceback" not in done.stderr
    done = run_bot("-m", "bot")
    assert done.returncode == 2 and "required: command" in done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["policy", "extra"],
        ["staff", "list", "--bogus"],
        ["run", "--workers", "many"],
        ["outbox"],
        ["requests", "export", "--format", "xml"],
    ],
)
def test_arguments_a_command_does_not_take_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    assert done.value.code == 2 and "error:" in capsys.readouterr().err


def test_a_delegated_command_gets_every_argument_in_order(monkeypatch):
    seen = {}

    class Module:
        @staticmethod
        def main(argv):
            seen["argv"] = argv
            return 3

    def import_module(name):
        seen["module"] = name
        return Module

    monkeypatch.setattr(cli, "import_module", import_module)
    argv = ["--min-accuracy", "0.95", "a.yml", "b.yml", "--json", "out.json", "-h"]
    assert cli.main(["eval", *argv]) == 3
    assert seen == {"module": "bot.devtools.eval", "argv": argv}


def test_run_takes_the_number_of_workers(monkeypatch):
    from bot.devtools import stack

    calls = []
    monkeypatch.setattr(stack, "run_foreground", lambda workers: calls.append(workers) or 0)
    assert cli.main(["run"]) == 0 and cli.main(["run", "--workers", "2"]) == 0
    assert calls == [1, 2]


@pytest.mark.parametrize("argv", [["policy"], ["--help"]])
def test_the_policy_command_and_the_help_load_neither_rasa_nor_the_encoder(argv):
    done = run_bot("-X", "importtime", "-m", "bot", *argv)
    assert done.returncode == 0, done.stderr
    imported = {
        line.split("|")[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert imported, done.stderr  # -X importtime did report
    heavy = {
        name
        for name in imported
        if name.split(".")[0] in ("rasa", "tensorflow") or name == "bot.nlu.encoder"
    }
    assert heavy == set()
    assert "tensorflow" not in done.stderr


@pytest.mark.parametrize(
    "argv, last, estimated",
    [
        (["--from", "2026-02-11", "--working-days", "15"], "2026-03-10", False),  # Spring Festival
        (["--from", "2026-12-20", "--working-days", "15"], "2027-01-08", True),  # 2027 not known
        (["--from", "2026-01-31", "--jurisdiction", "gdpr"], "2026-02-28", False),
    ],
)
def test_due_prints_the_date_the_desk_would_give_on_its_last_line(
    argv, last, estimated, capsys, no_env_file
):
    assert cli.main(["due", *argv]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == last
    assert any(line.startswith("estimated:") and "2027" in line for line in lines) == estimated


@pytest.mark.parametrize(
    "argv",
    [
        ["--from", "2026-13-01"],
        ["--from", "2026-02-11", "--working-days", "-3"],
        ["--from", "2026-02-11", "--jurisdiction", "mars"],
    ],
)
def test_due_refuses_a_bad_date_count_or_jurisdiction_with_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["due", *argv])
    assert stopped.value.code == 2 and "error:" in capsys.readouterr().err
