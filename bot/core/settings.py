"""Configuration from the environment, with `.env` (created on first run) as the local default.

The Rasa HTTP API token is a secret each installation makes for itself: `make run` writes a random
one into `.env` once, and every process reads it from there.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

from bot.core.paths import ENV_FILE, MODELS_DIR

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
    """Add any missing generated secret to `.env` (creating it). Returns the names added."""
    values = read_env_file(path)
    missing = [name for name in GENERATED_SECRETS if not values.get(name)]
    if not missing:
        return []
    lines = [] if not path.exists() else path.read_text(encoding="utf-8").splitlines()
    lines += [f"{name}={secrets.token_hex(32)}" for name in missing]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return missing


def _get(key: str, default: str, env_file: Dict[str, str]) -> str:
    return os.environ.get(key) or env_file.get(key) or default


@dataclass(frozen=True)
class Settings:
    rasa_url: str
    action_server_url: str
    web_url: str
    rasa_api_token: str
    site_origin: str
    rasa_host: str
    rasa_port: int
    action_host: str
    action_port: int
    web_host: str
    web_port: int
    model_path: Path
    max_message_chars: int
    encoder_cache_size: int = 2048


def load_settings() -> Settings:
    env_file = read_env_file()
    rasa_host = _get("RASA_HOST", "127.0.0.1", env_file)
    rasa_port = int(_get("RASA_PORT", "5005", env_file))
    action_port = int(_get("ACTION_PORT", "5055", env_file))
    web_host = _get("WEB_HOST", "127.0.0.1", env_file)
    web_port = int(_get("WEB_PORT", "8000", env_file))
    return Settings(
        rasa_url=_get("RASA_URL", f"http://127.0.0.1:{rasa_port}", env_file),
        action_server_url=_get("ACTION_SERVER_URL", f"http://127.0.0.1:{action_port}", env_file),
        web_url=_get("WEB_URL", f"http://127.0.0.1:{web_port}", env_file),
        rasa_api_token=_get("RASA_API_TOKEN", "", env_file),
        site_origin=_get("SITE_ORIGIN", f"http://localhost:{web_port}", env_file),
        rasa_host=rasa_host,
        rasa_port=rasa_port,
        action_host=_get("ACTION_HOST", "127.0.0.1", env_file),
        action_port=action_port,
        web_host=web_host,
        web_port=web_port,
        model_path=Path(_get("RASA_MODEL", str(MODELS_DIR / f"{MODEL_NAME}.tar.gz"), env_file)),
        max_message_chars=int(_get("MAX_MESSAGE_CHARS", "2000", env_file)),
        encoder_cache_size=int(_get("ENCODER_CACHE_SIZE", "2048", env_file)),
    )
