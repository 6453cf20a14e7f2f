"""The sentence encoder with what it has encoded kept: for tests that encode the same texts again.

`PolicyEvidence` encodes all 49 policy sentences each time it is created or loaded (about 3.5 s
on this 2-core machine), and `evidence_floor` encodes our 1,600-odd examples on every call. The
encoder is deterministic, so a batch encoded once gives the same vectors the next time; tests
that ask for the `cached_encoder` fixture (tests/unit/conftest.py) get this wrapper wherever the
code under test calls `load_encoder()`, and each distinct batch is encoded once per session.
"""

from __future__ import annotations

from typing import Dict, Sequence, Tuple

import numpy as np

from bot.nlu.encoder import BATCH_SIZE, SentenceEncoder


class CachingEncoder:
    """The real encoder; `encode` keeps each batch's vectors (copies are handed out)."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder
        self.batches: Dict[Tuple[Tuple[str, ...], int], np.ndarray] = {}

    def encode(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        key = (tuple(texts), batch_size)
        if key not in self.batches:
            self.batches[key] = self.encoder.encode(texts, batch_size)
        return self.batches[key].copy()

    def __getattr__(self, name: str):
        return getattr(self.encoder, name)  # encode_one, encode_detailed, tokenizer, ...
