"""The one settings object: every value the project reads from the environment or `.env`.

One precedence for every variable: the process environment, then `.env` (written on first run,
see `ensure_env_file`), then the default here. A variable set to an empty (or blank) value
counts as not set. Each value is parsed once, as the settings load, into its type: a number
that is not one, or a yes/no that is neither, raises `SettingsError` naming the variable.

`load_settings()` reads both sources once per process and keeps the result;
`load_settings.cache_clear()` makes the next call read them again, and
`Settings.from_sources(env, env_file)` builds settings from two given mappings (tests).

No other module reads `os.environ`, `os.getenv` or `.env` (tests/test_settings.py walks the
source): the others take their values from these settings, or are handed them. A child process
gets its environment from whoever starts it (bot.devtools.stack), built on
`environment_for_child()`; it then loads settings of its own.

The Rasa HTTP API token and APP_SECRET are secrets each installation makes for itself:
`make run` writes random ones into `.env` once (`ensure_env_file`), and every process reads
them from there.
"""

from __future__ import annotations

import functools
import math
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union, get_args, get_origin, get_type_hints

from bot.core.paths import ENV_FILE, MODELS_DIR, VAR_DIR
from bot.core.private_files import open_private, restrict

MODEL_NAME = "privacy-assistant"


def read_env_file(path: Path = ENV_FILE) -> Dict[str, str]:
    values: Dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


# Secrets each installation makes for itself: the Rasa HTTP API token, and the key that
# verification codes are hashed with.
GENERATED_SECRETS = ("RASA_API_TOKEN", "APP_SECRET")


def ensure_env_file(path: Path = ENV_FILE) -> List[str]:
    """Add any missing generated secret to `.env` (creating it 0600; an existing one loses
    group and other access). Returns the names added."""
    restrict(path)
    values = read_env_file(path)
    missing = [name for name in GENERATED_SECRETS if not values.get(name)]
    if not missing:
        return []
    lines = [] if not path.exists() else path.read_text(encoding="utf-8").splitlines()
    lines += [f"{name}={secrets.token_hex(32)}" for name in missing]
    with open_private(path, "w") as env_file:  # never readable by others, not even briefly
        env_file.write("\n".join(lines) + "\n")
    return missing


class SettingsError(ValueError):
    """A variable's value is not of its type; the message names the variable."""


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def _setting(variable: str, default: Any = None, secret: bool = False) -> Any:
    """A field read from `variable`; a secret one is left out of the settings' repr."""
    return field(default=default, repr=not secret, metadata={"variable": variable})


# Where the scaled stack (`make run-scaled`, endpoints.scaled.yml) keeps its state when the
# variables do not say: PostgreSQL and Redis on this machine. The embedded stack uses none of
# them (SQLite files in var/: the requests', and the conversations').
SCALED_DEFAULTS: Dict[str, str] = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/videopro_requests",
    "TRACKER_DB_HOST": "127.0.0.1",
    "TRACKER_DB_PORT": "5432",
    "TRACKER_DB_NAME": "videopro_tracker",
    "TRACKER_DB_USER": "postgres",
    "TRACKER_DB_PASSWORD": "",
    "REDIS_HOST": "127.0.0.1",
    "REDIS_PORT": "6379",
    "REDIS_DB": "1",
}


@dataclass(frozen=True)
class Settings:
    """Every setting, typed. Each field names its variable; README "Configuration" lists them
    all with their defaults and meaning (tests/test_settings.py keeps the two in step). An
    Optional field is None when its variable is not set."""

    # -- the three servers: where each listens, and how the others reach it ----------------------
    rasa_host: str = _setting("RASA_HOST", "127.0.0.1")
    rasa_port: int = _setting("RASA_PORT", 5005)
    rasa_url: str = _setting("RASA_URL", "")  # "": http://127.0.0.1:<rasa_port>
    rasa_api_token: str = _setting("RASA_API_TOKEN", "", secret=True)
    model_path: Path = _setting("RASA_MODEL", MODELS_DIR / f"{MODEL_NAME}.tar.gz")
    action_host: str = _setting("ACTION_HOST", "127.0.0.1")
    action_port: int = _setting("ACTION_PORT", 5055)
    action_server_url: str = _setting("ACTION_SERVER_URL", "")  # "": http://127.0.0.1:<port>
    action_timeout_seconds: float = _setting("ACTION_TIMEOUT_SECONDS", 10.0)
    web_host: str = _setting("WEB_HOST", "127.0.0.1")
    web_port: int = _setting("WEB_PORT", 8000)
    web_url: str = _setting("WEB_URL", "")  # "": http://127.0.0.1:<web_port>
    site_origin: str = _setting("SITE_ORIGIN", "")  # "": http://localhost:<web_port>
    secure_cookies: bool = _setting("SECURE_COOKIES", False)
    max_message_chars: int = _setting("MAX_MESSAGE_CHARS", 2000)
    encoder_cache_size: int = _setting("ENCODER_CACHE_SIZE", 2048)
    conversation_retention: Optional[str] = _setting("CONVERSATION_RETENTION")  # endpoints.yml's
    # A conversation longer than this many events continues in a new session that carries its
    # state and its last turns (bot/rasa/bounded.py): what each message loads, replays and sends
    # to the action server stays bounded however long the visitor types.
    conversation_max_events: int = _setting("CONVERSATION_MAX_EVENTS", 60)
    conversation_keep_turns: int = _setting("CONVERSATION_KEEP_TURNS", 3)
    # The embedded stack's conversations (Rasa's SQL tracker store on SQLite, endpoints.yml);
    # a relative path is taken from the project's root (bot.storage.conversations_db).
    conversations_db: Path = _setting("CONVERSATIONS_DB", VAR_DIR / "conversations.db")

    # -- the request database and what the chat may do to it ----------------------------------
    database_url: Optional[str] = _setting("DATABASE_URL", secret=True)  # None: SQLite in var/
    app_secret: Optional[str] = _setting("APP_SECRET", secret=True)
    request_due_working_days: int = _setting("REQUEST_DUE_WORKING_DAYS", 15)
    request_jurisdiction: str = _setting("REQUEST_JURISDICTION", "prc")  # bot.requests.deadlines
    request_max_extension_working_days: int = _setting("REQUEST_MAX_EXTENSION_WORKING_DAYS", 15)
    delivery_expiry_days: int = _setting("DELIVERY_EXPIRY_DAYS", 7)
    delivery_max_bytes: int = _setting("DELIVERY_MAX_BYTES", 25_000_000)
    rate_limit_codes_per_email: int = _setting("RATE_LIMIT_CODES_PER_EMAIL", 5)
    rate_limit_codes_per_conversation: int = _setting("RATE_LIMIT_CODES_PER_CONVERSATION", 5)
    rate_limit_requests_per_conversation: int = _setting("RATE_LIMIT_REQUESTS_PER_CONVERSATION", 5)

    # -- e-mail: the outbox is delivered over SMTP when host, port and sender are all set -------
    smtp_host: Optional[str] = _setting("SMTP_HOST")
    smtp_port: Optional[int] = _setting("SMTP_PORT")
    smtp_from: Optional[str] = _setting("SMTP_FROM")
    smtp_username: Optional[str] = _setting("SMTP_USERNAME")
    smtp_password: Optional[str] = _setting("SMTP_PASSWORD", secret=True)
    smtp_starttls: bool = _setting("SMTP_STARTTLS", False)

    # -- the scaled stores (endpoints.scaled.yml); unset: SCALED_DEFAULTS where the stack is scaled
    tracker_store_url: Optional[str] = _setting("TRACKER_STORE_URL", secret=True)
    tracker_db_host: Optional[str] = _setting("TRACKER_DB_HOST")
    tracker_db_port: Optional[int] = _setting("TRACKER_DB_PORT")
    tracker_db_name: Optional[str] = _setting("TRACKER_DB_NAME")
    tracker_db_user: Optional[str] = _setting("TRACKER_DB_USER")
    tracker_db_password: Optional[str] = _setting("TRACKER_DB_PASSWORD", secret=True)
    redis_host: Optional[str] = _setting("REDIS_HOST")
    redis_port: Optional[int] = _setting("REDIS_PORT")
    redis_db: Optional[int] = _setting("REDIS_DB")
    action_endpoint_url: Optional[str] = _setting("ACTION_ENDPOINT_URL")
    sanic_workers: Optional[int] = _setting("SANIC_WORKERS")
    action_server_sanic_workers: Optional[int] = _setting("ACTION_SERVER_SANIC_WORKERS")

    def __post_init__(self) -> None:
        """The addresses that follow from the ports, where they are not set themselves."""
        derived = {
            "rasa_url": f"http://127.0.0.1:{self.rasa_port}",
            "action_server_url": f"http://127.0.0.1:{self.action_port}",
            "web_url": f"http://127.0.0.1:{self.web_port}",
            "site_origin": f"http://localhost:{self.web_port}",
        }
        for name, value in derived.items():
            if not getattr(self, name):
                object.__setattr__(self, name, value)

    @classmethod
    def variables(cls) -> Dict[str, str]:
        """Every variable read, with the field it fills: {"RASA_PORT": "rasa_port", ...}."""
        return {
            item.metadata["variable"]: item.name
            for item in fields(cls)
            if "variable" in item.metadata
        }

    @classmethod
    def from_sources(cls, env: Mapping[str, str], env_file: Mapping[str, str]) -> Settings:
        """Settings from the environment `env` over the `.env` values `env_file`, over the
        defaults; blank values count as not set. Raises `SettingsError` for a value that is
        not of its variable's type."""
        types = get_type_hints(cls)
        given: Dict[str, Any] = {}
        for variable, name in cls.variables().items():
            for source in (env, env_file):
                raw = source.get(variable)
                if raw is not None and raw.strip():
                    given[name] = _parse(variable, raw, types[name])
                    break
        return cls(**given)

    def value_of(self, variable: str) -> Any:
        """The value of the setting read from `variable` (None where unset and optional)."""
        return getattr(self, self.variables()[variable])

    def scaled_stores(self) -> Dict[str, str]:
        """Where the scaled stack keeps its state, as the variables endpoints.scaled.yml and the
        request database read: each as set (environment or `.env`), else SCALED_DEFAULTS."""
        values = {}
        for variable, default in SCALED_DEFAULTS.items():
            value = self.value_of(variable)
            values[variable] = default if value is None else str(value)
        return values


def _parse(variable: str, raw: str, kind: Any) -> Any:
    """`raw` as `kind` (str, int, float, bool or Path, or an Optional of one)."""
    if get_origin(kind) is Union:
        kind = next(arg for arg in get_args(kind) if arg is not type(None))
    if kind is bool:
        word = raw.strip().lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        raise SettingsError(
            f"{variable} must be 1 or 0 (or true/false, yes/no, on/off), not {raw!r}"
        )
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{variable} must be a whole number, not {raw!r}") from None
    if kind is float:
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise SettingsError(f"{variable} must be a number, not {raw!r}")
        return number
    if kind is Path:
        return Path(raw)
    return raw


# What every setting is when nothing is set.
DEFAULTS = Settings()


@functools.cache
def load_settings() -> Settings:
    """This process's settings: the environment, then `.env`, then the defaults; read once
    (`load_settings.cache_clear()` reads again)."""
    return Settings.from_sources(os.environ, read_env_file(ENV_FILE))


class MissingSecret(RuntimeError):
    """APP_SECRET is needed (it keys codes, seals, sessions and the audit trail) and not set."""


def app_secret() -> str:
    """This installation's APP_SECRET; `MissingSecret` when it is not set, since every use
    of it would otherwise be keyed with nothing."""
    secret = load_settings().app_secret
    if not secret:
        raise MissingSecret("APP_SECRET is not set: run `python -m bot env` to create .env")
    return secret


def named_secret(variable: str) -> Optional[str]:
    """The value of a variable named by configuration rather than by this module (a system's
    webhook secret, `secret_env` in SYSTEMS_FILE), with the same precedence as every setting:
    the environment, then `.env`; None when unset or blank."""
    for source in (os.environ, read_env_file(ENV_FILE)):
        raw = source.get(variable)
        if raw is not None and raw.strip():
            return raw.strip()
    return None


def environment_for_child(extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """A copy of this process's environment with `extra` on top, for a child process to start
    with (bot.devtools.stack adds what the child needs). Nothing of it is read here."""
    return {**os.environ, **(extra or {})}
