"""The product's systems that carry requests out, from the file named by SYSTEMS_FILE.

Each system has a name, a label in every registered language, the kinds of request it takes part
in, and how it is reached: a webhook (a URL and the name of the environment variable holding its
secret) or by hand (a task a member ticks). Without the file, the embedded default is one manual
system, the legal department, for every kind: `make run` needs nothing new, and the desk works a
request as before, by ticking that one task.

The file is read and checked once per process (`systems()`); `check_systems()` runs at start, so
a mistake stops the stack with a sentence naming the system and the key, not a failed delivery
days later.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import yaml

from bot.core.language import LANGUAGES
from bot.core.paths import ROOT
from bot.core.settings import load_settings, named_secret
from bot.core.texts import DEFAULT_LANGUAGE, text
from bot.requests.registry import BY_KIND
from bot.requests.task_states import MANUAL, WEBHOOK

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SystemsFileError(ValueError):
    """SYSTEMS_FILE cannot be used; the message names the file, the system and what is wrong."""


@dataclass(frozen=True)
class System:
    name: str
    labels: Mapping[str, str]
    kinds: FrozenSet[str]
    webhook_url: Optional[str] = None
    secret_env: Optional[str] = None

    @property
    def reach(self) -> str:
        return WEBHOOK if self.webhook_url else MANUAL

    @property
    def manual(self) -> bool:
        return self.webhook_url is None

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get(DEFAULT_LANGUAGE) or self.name

    def secret(self) -> Optional[str]:
        """The webhook's signing secret, read when used (a rotated secret needs no restart of
        the file, only of the variable)."""
        return named_secret(self.secret_env) if self.secret_env else None

    def takes(self, kind: str) -> bool:
        return kind in self.kinds


DEFAULT_SYSTEMS: Tuple[System, ...] = (
    System(
        name="legal",
        labels={code: text("fulfilment.default_system", code) for code in LANGUAGES},
        kinds=frozenset(BY_KIND),
    ),
)


def _problem(where: str, what: str) -> SystemsFileError:
    return SystemsFileError(f"{where}: {what}")


def _labels(where: str, raw: Any) -> Dict[str, str]:
    if not isinstance(raw, Mapping):
        raise _problem(
            where, f"`label` must give a label in each language ({', '.join(LANGUAGES)})"
        )
    labels = {str(k): str(v).strip() for k, v in raw.items() if v is not None}
    missing = [code for code in LANGUAGES if not labels.get(code)]
    if missing:
        raise _problem(where, f"`label` has no label in {', '.join(missing)}")
    return labels


def _kinds(where: str, raw: Any) -> FrozenSet[str]:
    if not isinstance(raw, list) or not raw:
        raise _problem(where, f"`kinds` must list request kinds ({', '.join(BY_KIND)})")
    unknown = [str(kind) for kind in raw if kind not in BY_KIND]
    if unknown:
        raise _problem(
            where, f"`kinds` names {', '.join(unknown)}: not a kind ({', '.join(BY_KIND)})"
        )
    return frozenset(str(kind) for kind in raw)


def _webhook(where: str, raw: Any) -> Tuple[str, str]:
    if not isinstance(raw, Mapping):
        raise _problem(where, "`webhook` must have `url` and `secret_env`")
    url, variable = str(raw.get("url") or ""), str(raw.get("secret_env") or "")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _problem(where, f"`webhook.url` must be an http(s) URL, not {url!r}")
    if not _VARIABLE.match(variable):
        raise _problem(where, "`webhook.secret_env` must name the variable holding its secret")
    return url, variable


def _system(index: int, raw: Any) -> System:
    where = f"system {index + 1}"
    if not isinstance(raw, Mapping):
        raise _problem(where, "each system is a mapping with name, label, kinds and a reach")
    name = str(raw.get("name") or "")
    if not _NAME.match(name):
        raise _problem(where, f"`name` must be lower-case letters, digits, - or _, not {name!r}")
    where = f"system {name!r}"
    labels = _labels(where, raw.get("label"))
    kinds = _kinds(where, raw.get("kinds"))
    has_webhook, manual = "webhook" in raw, raw.get("manual") is True
    if has_webhook == manual:
        raise _problem(where, "give either `webhook: {url, secret_env}` or `manual: true`")
    if manual:
        return System(name=name, labels=labels, kinds=kinds)
    url, variable = _webhook(where, raw.get("webhook"))
    return System(name=name, labels=labels, kinds=kinds, webhook_url=url, secret_env=variable)


def parse_systems(document: Any, source: str = "SYSTEMS_FILE") -> Tuple[System, ...]:
    """The systems of a parsed YAML document; `SystemsFileError` prefixed with `source`."""
    try:
        if not isinstance(document, Mapping) or not isinstance(document.get("systems"), list):
            raise _problem("the file", "it must have a list `systems:`")
        found: List[System] = [_system(i, raw) for i, raw in enumerate(document["systems"])]
        if not found:
            raise _problem("the file", "`systems:` lists no system")
        names = [system.name for system in found]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise _problem("the file", f"{', '.join(twice)} named twice")
    except SystemsFileError as problem:
        raise SystemsFileError(f"{source}: {problem}") from None
    return tuple(found)


def load_systems(path: Optional[Path]) -> Tuple[System, ...]:
    """The systems in the file at `path` (relative: from the project's root); the default
    without one."""
    if path is None:
        return DEFAULT_SYSTEMS
    full = path if path.is_absolute() else ROOT / path
    try:
        document = yaml.safe_load(full.read_text(encoding="utf-8"))
    except OSError as error:
        raise SystemsFileError(f"SYSTEMS_FILE {path}: cannot be read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise SystemsFileError(f"SYSTEMS_FILE {path}: not YAML ({error})") from None
    return parse_systems(document, f"SYSTEMS_FILE {path}")


@functools.lru_cache(maxsize=4)
def _loaded(path: Optional[Path]) -> Tuple[System, ...]:
    return load_systems(path)


def systems() -> Tuple[System, ...]:
    """This process's systems: SYSTEMS_FILE, read once for each path the settings name."""
    return _loaded(load_settings().systems_file)


def check_systems() -> Tuple[System, ...]:
    """At start: the file is usable and every webhook's secret is set."""
    found = systems()
    unset = [f"{s.name} ({s.secret_env})" for s in found if s.secret_env and not s.secret()]
    if unset:
        raise SystemsFileError(
            "SYSTEMS_FILE: no secret set for the webhook of "
            + ", ".join(unset)
            + " (set the variable in the environment or .env)"
        )
    return found


def by_name(name: str) -> Optional[System]:
    return next((system for system in systems() if system.name == name), None)


def taking(kind: str) -> Tuple[System, ...]:
    """The systems that take part in requests of `kind`, in the file's order."""
    return tuple(system for system in systems() if system.takes(kind))
