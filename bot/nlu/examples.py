"""Our NLU training examples, read from `data/nlu/*.yml` as plain (intent, text) pairs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Tuple

import yaml

from bot.core.paths import ROOT

NLU_DIR = ROOT / "data" / "nlu"
# `[jane@example.com](email)` or `[x]{"entity": "email"}` -> the annotated words themselves.
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def plain(example: str) -> str:
    return _ANNOTATION.sub(r"\1", example).strip()


def load_examples(folder: Path = NLU_DIR) -> List[Tuple[str, str]]:
    out: List[Tuple[str, str]] = []
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    out.append((str(block["intent"]), plain(line[2:])))
    return out
