"""SYSTEMS_FILE: read and checked at start, each mistake named; without it, legal by hand for
every kind (bot/requests/systems.py)."""

from __future__ import annotations

import pytest
import yaml

from bot.cli import main as cli
from bot.requests import systems as systems_module
from bot.requests.registry import BY_KIND
from bot.requests.systems import SystemsFileError, check_systems, parse_systems, systems
from tests.support.fulfilment import SECRET_ENV, systems_yaml, use_systems


def test_without_the_file_legal_takes_every_kind_by_hand(set_env):
    set_env(SYSTEMS_FILE=None)
    [legal] = systems()
    assert legal.name == "legal" and legal.manual and legal.kinds == frozenset(BY_KIND)
    assert legal.label("en") == "the legal department" and legal.label("zh") == "法务部"
    assert check_systems() == (legal,)


def test_the_issues_example_is_read(set_env, tmp_path):
    use_systems(set_env, tmp_path, systems_yaml("http://127.0.0.1:9917/privacy"))
    accounts, legal = systems()
    assert accounts.reach == "webhook" and accounts.secret_env == SECRET_ENV
    assert accounts.kinds == {"deletion", "correction", "suspension", "access"}
    assert accounts.label("zh") == "账号服务" and accounts.secret()
    assert legal.manual and legal.kinds == {"deletion"}
    assert systems_module.taking("access") == (accounts,)


def one(**changes):
    system = {**systems_yaml()["systems"][0], **changes}
    return {"systems": [{k: v for k, v in system.items() if v is not None}]}


@pytest.mark.parametrize(
    "document, named",
    [
        ({"system": []}, "a list `systems:`"),
        ({"systems": []}, "lists no system"),
        (one(name="Accounts!"), "`name` must be lower-case"),
        (one(label={"en": "Accounts"}), "`label` has no label in zh"),
        (one(kinds=["deletion", "erasure"]), "`kinds` names erasure"),
        (one(kinds=[]), "`kinds` must list"),
        (one(webhook={"url": "ftp://x", "secret_env": "S"}), "`webhook.url` must be an http"),
        (one(webhook={"url": "http://x/y", "secret_env": "1bad"}), "`webhook.secret_env`"),
        (one(webhook=None), "either `webhook"),
        (one(manual=True), "either `webhook"),
        ({"systems": [systems_yaml()["systems"][0]] * 2}, "accounts named twice"),
    ],
)
def test_each_mistake_is_named(document, named):
    with pytest.raises(SystemsFileError) as problem:
        parse_systems(document)
    assert named in str(problem.value) and str(problem.value).startswith("SYSTEMS_FILE")


def test_a_file_that_is_missing_or_not_yaml_is_named(set_env, tmp_path):
    set_env(SYSTEMS_FILE=str(tmp_path / "absent.yml"))
    with pytest.raises(SystemsFileError, match="absent.yml: cannot be read"):
        systems()
    broken = tmp_path / "broken.yml"
    broken.write_text("systems: [\n", encoding="utf-8")
    set_env(SYSTEMS_FILE=str(broken))
    with pytest.raises(SystemsFileError, match="not YAML"):
        systems()


def test_a_webhook_without_its_secret_stops_the_start(
    set_env, tmp_path, capsys, no_env_file, monkeypatch
):
    path = tmp_path / "systems.yml"
    path.write_text(yaml.safe_dump(systems_yaml()), encoding="utf-8")
    set_env(SYSTEMS_FILE=str(path), **{SECRET_ENV: None})
    with pytest.raises(SystemsFileError, match=f"accounts \\({SECRET_ENV}\\)"):
        check_systems()
    started = []
    monkeypatch.setattr("bot.devtools.stack.run_foreground", lambda **_: started.append(1) or 0)
    assert cli.main(["run"]) == 1 and started == []  # nothing is started
    assert "Not started: SYSTEMS_FILE: no secret set for the webhook of accounts" in (
        capsys.readouterr().err
    )
