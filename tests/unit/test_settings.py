"""The one settings object (bot.core.settings): its precedence, its parsing, the README's table of
it, and that no other module reads the environment or `.env` itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List

import pytest

from bot.core.paths import ROOT
from bot.core.settings import DEFAULTS, SCALED_DEFAULTS, Settings, SettingsError, load_settings

# -- precedence: the environment, then .env, then the default ---------------------------------


def test_the_environment_wins_over_env_file_which_wins_over_the_default():
    settings = Settings.from_sources(
        {"RASA_PORT": "6000", "APP_SECRET": "from-env"},
        {"RASA_PORT": "7000", "WEB_PORT": "9000", "DATABASE_URL": "sqlite:///x.db"},
    )
    assert settings.rasa_port == 6000  # environment over .env
    assert settings.web_port == 9000 and settings.database_url == "sqlite:///x.db"  # .env
    assert settings.app_secret == "from-env"
    assert settings.action_port == 5055 and settings.rasa_host == "127.0.0.1"  # defaults
    assert settings.smtp_host is None  # optional and unset


def test_a_blank_value_counts_as_not_set():
    assert Settings.from_sources({"RASA_HOST": ""}, {"RASA_HOST": "0.0.0.0"}).rasa_host == "0.0.0.0"
    assert Settings.from_sources({"RASA_HOST": "  "}, {"RASA_HOST": ""}).rasa_host == "127.0.0.1"
    assert Settings.from_sources({"TRACKER_STORE_URL": ""}, {}).tracker_store_url is None


def test_nothing_set_gives_the_defaults():
    assert Settings.from_sources({}, {}) == DEFAULTS == Settings()


def test_addresses_follow_the_ports_unless_set_themselves():
    settings = Settings.from_sources(
        {"RASA_PORT": "6005", "WEB_PORT": "8080"}, {"ACTION_PORT": "6055"}
    )
    assert settings.rasa_url == "http://127.0.0.1:6005"
    assert settings.action_server_url == "http://127.0.0.1:6055"
    assert settings.web_url == "http://127.0.0.1:8080"
    assert settings.site_origin == "http://localhost:8080"
    given = Settings.from_sources(
        {"RASA_URL": "http://rasa.internal:5005", "SITE_ORIGIN": "https://www.videopro.example"}, {}
    )
    assert given.rasa_url == "http://rasa.internal:5005"
    assert given.site_origin == "https://www.videopro.example"


def test_load_settings_reads_environment_and_env_file_once(set_env, no_env_file):
    no_env_file.write_text(
        "# local\nRASA_PORT=7000\nWEB_PORT='9000'\nMAX_MESSAGE_CHARS=300\n", encoding="utf-8"
    )
    set_env(RASA_PORT="6000", WEB_PORT=None, MAX_MESSAGE_CHARS=None)
    settings = load_settings()
    assert (settings.rasa_port, settings.web_port, settings.max_message_chars) == (6000, 9000, 300)
    no_env_file.write_text("RASA_PORT=7000\nWEB_PORT=9001\n", encoding="utf-8")
    assert load_settings() is settings  # once per process ...
    load_settings.cache_clear()  # ... until asked to read again
    assert load_settings().web_port == 9001 and load_settings().max_message_chars == 2000


# -- parsing: typed values, and an error naming the variable -----------------------------------


def test_values_are_typed():
    settings = Settings.from_sources(
        {
            "ACTION_TIMEOUT_SECONDS": "2.5",
            "SECURE_COOKIES": "1",
            "SMTP_STARTTLS": "Yes",
            "SMTP_PORT": "587",
            "RASA_MODEL": "/srv/model.tar.gz",
            "RATE_LIMIT_CODES_PER_EMAIL": "0",
            "TRACKER_DB_PORT": " 5433 ",
            "CONVERSATION_RETENTION": "7d",
        },
        {},
    )
    assert settings.action_timeout_seconds == 2.5 and settings.secure_cookies is True
    assert settings.smtp_starttls is True and settings.smtp_port == 587
    assert settings.model_path == Path("/srv/model.tar.gz")
    assert settings.rate_limit_codes_per_email == 0  # 0 switches a limit off
    assert settings.tracker_db_port == 5433 and settings.conversation_retention == "7d"


@pytest.mark.parametrize(
    "word, value",
    [
        ("1", True),
        ("true", True),
        ("ON", True),
        ("yes", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
    ],
)
def test_yes_and_no_words(word, value):
    assert Settings.from_sources({"SECURE_COOKIES": word}, {}).secure_cookies is value


@pytest.mark.parametrize(
    "variable, raw, says",
    [
        ("RASA_PORT", "50o5", "whole number"),
        ("RATE_LIMIT_CODES_PER_EMAIL", "five", "whole number"),
        ("SMTP_PORT", "587.0", "whole number"),
        ("REQUEST_DUE_WORKING_DAYS", "15 days", "whole number"),
        ("ACTION_TIMEOUT_SECONDS", "ten", "number"),
        ("ACTION_TIMEOUT_SECONDS", "nan", "number"),
        ("SECURE_COOKIES", "sure", "1 or 0"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_variable(variable, raw, says):
    with pytest.raises(SettingsError) as refused:
        Settings.from_sources({}, {variable: raw})
    assert variable in str(refused.value) and says in str(refused.value)
    assert repr(raw) in str(refused.value)
    assert isinstance(refused.value, ValueError)


def test_a_bad_value_stops_load_settings(set_env, no_env_file):
    set_env(MAX_MESSAGE_CHARS="lots")
    with pytest.raises(SettingsError, match="MAX_MESSAGE_CHARS"):
        load_settings()


def test_secrets_stay_out_of_the_repr():
    settings = Settings.from_sources(
        {
            "RASA_API_TOKEN": "tok-1",
            "APP_SECRET": "sec-2",
            "SMTP_PASSWORD": "pw-3",
            "TRACKER_DB_PASSWORD": "pw-4",
            "DATABASE_URL": "postgresql://u:pw-5@h/db",
            "TRACKER_STORE_URL": "postgresql://u:pw-6@h/t",
        },
        {},
    )
    text = repr(settings)
    for secret in ("tok-1", "sec-2", "pw-3", "pw-4", "pw-5", "pw-6"):
        assert secret not in text


def test_the_scaled_stores_are_what_is_set_else_the_scaled_defaults():
    settings = Settings.from_sources(
        {"TRACKER_DB_HOST": "db.internal", "REDIS_DB": "3"},
        {"DATABASE_URL": "postgresql://p@db.internal/requests"},
    )
    stores = settings.scaled_stores()
    assert set(stores) == set(SCALED_DEFAULTS)
    assert stores["TRACKER_DB_HOST"] == "db.internal" and stores["REDIS_DB"] == "3"
    assert stores["DATABASE_URL"] == "postgresql://p@db.internal/requests"
    assert stores["TRACKER_DB_PORT"] == "5432" and stores["REDIS_HOST"] == "127.0.0.1"


def test_the_purge_finds_the_tracker_store_the_settings_name():
    from bot.retention.trackers import tracker_store_url

    # Nothing set: the SQLite file endpoints.yml's store writes, where CONVERSATIONS_DB says.
    assert tracker_store_url(Settings.from_sources({}, {})) == (
        f"sqlite:///{ROOT / 'var' / 'conversations.db'}"
    )
    assert tracker_store_url(
        Settings.from_sources({"CONVERSATIONS_DB": "/srv/chat/conversations.db"}, {})
    ) == ("sqlite:////srv/chat/conversations.db")
    assert tracker_store_url(Settings.from_sources({}, {"CONVERSATIONS_DB": "data/c.db"})) == (
        f"sqlite:///{ROOT / 'data' / 'c.db'}"
    )
    assert (
        tracker_store_url(
            Settings.from_sources({"TRACKER_DB_HOST": "db.internal"}, {"TRACKER_DB_PASSWORD": "pw"})
        )
        == "postgresql://postgres:pw@db.internal:5432/videopro_tracker"
    )
    assert (
        tracker_store_url(
            Settings.from_sources(
                {"TRACKER_STORE_URL": "postgresql://rasa@db/t", "TRACKER_DB_HOST": "other"}, {}
            )
        )
        == "postgresql://rasa@db/t"
    )


def test_the_defaults_are_the_ones_the_modules_document():
    from bot.nlu.encoding_cache import DEFAULT_SIZE
    from bot.rasa.entry import DEFAULT_ACTION_TIMEOUT_SECONDS
    from bot.requests import deadlines, ratelimit

    assert DEFAULTS.request_due_working_days == deadlines.DEFAULT_WORKING_DAYS
    assert (
        DEFAULTS.rate_limit_codes_per_email,
        DEFAULTS.rate_limit_codes_per_conversation,
        DEFAULTS.rate_limit_requests_per_conversation,
    ) == (
        ratelimit.CODES_PER_EMAIL,
        ratelimit.CODES_PER_CONVERSATION,
        ratelimit.REQUESTS_PER_CONVERSATION,
    )
    assert DEFAULTS.encoder_cache_size == DEFAULT_SIZE
    assert DEFAULTS.action_timeout_seconds == DEFAULT_ACTION_TIMEOUT_SECONDS
    assert set(ratelimit.ENV_NAMES.values()) <= set(Settings.variables())


# -- the README's table --------------------------------------------------------------------------


def readme_variables() -> List[str]:
    """The variable of each row of the table under README's "## Configuration"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    found = []
    for row in rows:
        names = re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1])
        assert len(names) == 1, f"one variable a row, with its default and meaning: {row}"
        found += names
    return found


def test_the_readme_table_lists_exactly_the_settings():
    listed = readme_variables()
    assert len(listed) == len(set(listed)), "a variable listed twice"
    assert sorted(listed) == sorted(Settings.variables())


# -- nobody else reads the environment or .env ------------------------------------------------

READERS = {"environ", "environb", "getenv", "getenvb"}
# Modules that may *write* this process's environment (never read it).
MAY_WRITE = {"bot.devtools.stack"}
ONLY_READER = "bot.core.settings"


def _parents(tree: ast.AST) -> Dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _is_write(node: ast.Attribute, parents: Dict[ast.AST, ast.AST]) -> bool:
    """`os.environ[...] = ...`, `del os.environ[...]`, `os.environ.update(...)`."""
    parent = parents.get(node)
    if isinstance(parent, ast.Subscript) and parent.value is node:
        return isinstance(parent.ctx, (ast.Store, ast.Del))
    return (
        isinstance(parent, ast.Attribute)
        and parent.attr == "update"
        and isinstance(parents.get(parent), ast.Call)
    )


def environment_reads(source: str, may_write: bool = False) -> List[str]:
    """Where `source` reads the environment or `.env`: os.environ / os.getenv (however `os` is
    imported), `from os import environ`, `read_env_file`, python-dotenv."""
    tree = ast.parse(source)
    parents = _parents(tree)
    os_names = {
        alias.asname or "os"
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "os" or alias.name.startswith("os.")
    }
    found = []
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.ImportFrom):
            names = {alias.name for alias in node.names}
            if node.module == "os" and names & READERS:
                found.append(f"{where}: from os import {', '.join(sorted(names & READERS))}")
            if "read_env_file" in names or (node.module or "").startswith("dotenv"):
                found.append(f"{where}: imports {node.module}")
        elif isinstance(node, ast.Import):
            found += [
                f"{where}: import dotenv" for alias in node.names if alias.name.startswith("dotenv")
            ]
        elif isinstance(node, ast.Attribute):
            if (
                isinstance(node.value, ast.Name)
                and node.value.id in os_names
                and node.attr in READERS
                and not (may_write and node.attr == "environ" and _is_write(node, parents))
            ):
                found.append(f"{where}: {node.value.id}.{node.attr}")
            elif node.attr == "read_env_file":
                found.append(f"{where}: .read_env_file")
        elif isinstance(node, ast.Name) and node.id == "read_env_file":
            found.append(f"{where}: read_env_file")
    return found


@pytest.mark.parametrize(
    "source, may_write, reads",
    [
        ("import os\nos.environ.get('X')", False, True),
        ("import os\nx = os.environ['X']", True, True),
        ("import os\nenv = {**os.environ}", True, True),
        ("import os as o\no.getenv('X')", False, True),
        ("from os import environ", False, True),
        ("from os import getenv as g", False, True),
        ("from bot.core.settings import read_env_file", False, True),
        ("import bot.core.settings as s\ns.read_env_file()", False, True),
        ("from dotenv import load_dotenv", False, True),
        ("import os\nos.environ['X'] = '1'", False, True),
        ("import os\nos.environ['X'] = '1'\ndel os.environ['X']", True, False),
        ("import os\nos.environ.update({'X': '1'})", True, False),
        ("import os\nos.path.join('a', 'b')\nos.getpid()", False, False),
        ("environ = {}\nenviron.get('X')", False, False),
    ],
)
def test_the_check_sees_every_way_of_reading(source, may_write, reads):
    assert bool(environment_reads(source, may_write)) is reads


def project_modules() -> Dict[str, Path]:
    modules = {}
    for package in ("bot", "actions", "migrations"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def test_only_the_settings_read_the_environment_or_env_file():
    modules = project_modules()
    assert ONLY_READER in modules and MAY_WRITE <= set(modules)
    readers = {}
    for module, path in modules.items():
        if module == ONLY_READER:
            continue
        found = environment_reads(path.read_text(encoding="utf-8"), module in MAY_WRITE)
        if found:
            readers[module] = found
    assert readers == {}, "take these from bot.core.settings (load_settings) instead"
