"""What the silence measurement reads: labelled questions, and both encoders' vectors of them,
kept on disk (`results/silence/`, git-ignored) so that a rerun encodes only what is new.

Labels come from our own examples only: an `ask_<section>` example of data/nlu is a question the
policy addresses, an `ask_not_covered` one a question it is silent on, and
data/calibration/silence_examples.yml adds questions of both kinds written for this measurement
(never copied from an evaluation set). The development files (../shared/eval/*.yml) are read only
to estimate the effect on them, never to fit or to choose a threshold.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import yaml

from bot.conversation.routing import NOT_COVERED_INTENT, SECTION_PREFIX
from bot.core.language import has_han, normalise
from bot.core.paths import DATA_DIR, ROOT
from bot.nlu.encoding_cache import encoder_text
from bot.nlu.examples import load_examples

CACHE_DIR = ROOT / "results" / "silence"
OWN_EXAMPLES = DATA_DIR / "calibration" / "silence_examples.yml"
DEV_FILES = tuple(
    ROOT.parent / "shared" / "eval" / name
    for name in ("dev_questions.yml", "privacyqa_dev.yml", "dev_questions_zh.yml")
)
LANGUAGES = ("en", "zh")
ADDRESSED, SILENT = "addressed", "silent"


def language_of(text: str) -> str:
    """Chinese when the text has a Han character (as the calibration splits them), else English."""
    return "zh" if has_han(text) else "en"


def encoded_text(text: str) -> str:
    """The text the encoders are given for a message: normalised as the pipeline's
    LanguageDetector leaves it, with the identifiers' stand-ins (`encoder_text`)."""
    return encoder_text(normalise(text))


@dataclass(frozen=True)
class Labelled:
    """One question and whether the policy addresses it; `intent` is its NLU intent (an
    `ask_<section>`, `ask_not_covered`), or "" for one of the silence file's questions."""

    text: str
    label: str
    language: str
    intent: str = ""
    source: str = "nlu"

    @property
    def silent(self) -> bool:
        return self.label == SILENT


def labels_of_intents() -> Dict[str, str]:
    """`ask_<section>` for every section of the policy: addressed; `ask_not_covered`: silent.
    Any other intent (one about this service's own facts, say) is not a policy question."""
    from bot.policy.document import load_policy

    labels = {SECTION_PREFIX + section: ADDRESSED for section in load_policy().section_ids}
    labels[NOT_COVERED_INTENT] = SILENT
    return labels


def nlu_questions() -> List[Labelled]:
    """Every policy question of data/nlu, labelled by its intent."""
    labels = labels_of_intents()
    return [
        Labelled(text, labels[intent], language_of(text), intent)
        for intent, text in load_examples()
        if intent in labels
    ]


def own_questions(path: Path = OWN_EXAMPLES) -> List[Labelled]:
    """The silence file's questions: `addressed:` and `silent:` lists under each language."""
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for language, kinds in (data.get("questions") or {}).items():
        for label in (ADDRESSED, SILENT):
            for text in (kinds or {}).get(label) or ():
                out.append(Labelled(str(text), label, str(language), "", "own"))
    return out


@dataclass(frozen=True)
class DevItem:
    """A development question and what it may be answered with (`expect`, as `make eval`)."""

    file: str
    text: str
    expect: str

    @property
    def addressed_only(self) -> bool:
        """Only a section will do: the policy addresses it (as `make eval` counts them)."""
        from bot.devtools.eval import addressed_only

        return addressed_only(self.expect)

    @property
    def silent_only(self) -> bool:
        """Only "the policy does not say" will do."""
        from bot.devtools.eval import silent_only

        return silent_only(self.expect)


def dev_items(paths: Sequence[Path] = DEV_FILES) -> Dict[str, List[DevItem]]:
    out: Dict[str, List[DevItem]] = {}
    for path in paths:
        if not path.exists():
            continue
        items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        out[path.name] = [DevItem(path.name, str(i["text"]), str(i["expect"])) for i in items]
    return out


class VectorCache:
    """Both encoders' unit vectors of texts, kept in one .npz per encoder under `folder`.

    Keyed by the encoded text (`encoded_text`); the English encoder gives a Chinese text no
    vector (the pipeline's `han: zero`), so it is never asked for one."""

    def __init__(self, folder: Path = CACHE_DIR) -> None:
        self.folder = folder
        self.kept: Dict[str, Dict[str, np.ndarray]] = {
            "english": self._load("english"),
            "multilingual": self._load("multilingual"),
        }

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.npz"

    def _load(self, name: str) -> Dict[str, np.ndarray]:
        path = self._path(name)
        if not path.exists():
            return {}
        data = np.load(path, allow_pickle=False)
        return dict(zip((str(t) for t in data["texts"]), data["vectors"], strict=True))

    def _save(self, name: str) -> None:
        kept = self.kept[name]
        self.folder.mkdir(parents=True, exist_ok=True)
        texts = sorted(kept)
        vectors = np.stack([kept[t] for t in texts]) if texts else np.zeros((0, 1))
        np.savez(self._path(name), texts=np.array(texts), vectors=vectors)

    def fill(self, texts: Sequence[str]) -> None:
        """Encodes every text not held yet (a few minutes for a few thousand on two cores)."""
        keys = sorted({encoded_text(t) for t in texts})
        missing = [k for k in keys if k not in self.kept["multilingual"]]
        if missing:
            from bot.nlu.multilingual import load_multilingual

            encoder = load_multilingual()
            for start in range(0, len(missing), 256):
                chunk = missing[start : start + 256]
                self.kept["multilingual"].update(zip(chunk, encoder.encode(chunk), strict=True))
            self._save("multilingual")
        latin = [k for k in keys if not has_han(k) and k not in self.kept["english"]]
        if latin:
            from bot.nlu.encoder import load_encoder

            english = load_encoder()
            for start in range(0, len(latin), 256):
                chunk = latin[start : start + 256]
                self.kept["english"].update(zip(chunk, english.encode(chunk), strict=True))
            self._save("english")

    def of(self, text: str) -> Tuple[Optional[np.ndarray], np.ndarray]:
        """(English vector or None for Chinese, multilingual vector) of a text `fill` saw."""
        key = encoded_text(text)
        return self.kept["english"].get(key), self.kept["multilingual"][key]


def digest(texts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:12]
