"""Systems files for the fulfilment tests: written to a test's folder and named by SYSTEMS_FILE."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import yaml

SECRET_ENV = "ACCOUNTS_WEBHOOK_SECRET"
SECRET = "accounts-test-secret"


def systems_yaml(url: Optional[str] = "http://127.0.0.1:9/privacy", manual_kinds=("deletion",)):
    """The issue's example: an account service by webhook and legal by hand."""
    systems = []
    if url:
        systems.append(
            {
                "name": "accounts",
                "label": {"en": "Account service", "zh": "账号服务"},
                "kinds": ["deletion", "correction", "suspension", "access"],
                "webhook": {"url": url, "secret_env": SECRET_ENV},
            }
        )
    if manual_kinds:
        systems.append(
            {
                "name": "legal",
                "label": {"en": "Legal department", "zh": "法务部"},
                "kinds": list(manual_kinds),
                "manual": True,
            }
        )
    return {"systems": systems}


def use_systems(set_env, folder: Path, document) -> Path:
    """Write `document` as this test's SYSTEMS_FILE, with the webhook secret set."""
    path = folder / "systems.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    set_env(SYSTEMS_FILE=str(path), **{SECRET_ENV: SECRET})
    return path
