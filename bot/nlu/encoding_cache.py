"""Encodings made ahead of NLU, and kept for texts that come again.

Rasa runs its NLU graph synchronously on its one event loop, so a 20 ms encoder would hold up every
other conversation while it runs. The REST and socketio channels (`bot.rasa.channels`) therefore
encode a message in a worker thread *before* handing it to Rasa (numpy's matrix products release
the interpreter lock, so the second core does the work while the loop serves other visitors), and
the featurizer finds the result here. The same table keeps recent texts ("yes", "delete my
account", the menu's questions), which visitors send again and again; it is bounded, and holds
only vectors, never who sent them.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, Generic, List, Optional, Sequence, TypeVar

import numpy as np

from bot.core.language import normalise
from bot.core.reference_shape import CODE_LENGTH, PREFIX_LENGTH, REFERENCE_ALPHABET
from bot.nlu.encoder import Encoded

DEFAULT_SIZE = 2048
# What a cache holds: the English encoder's `Encoded`, or the multilingual encoder's vector.
T = TypeVar("T")

# What an identifier tells a sentence encoder is its kind, not its value: every e-mail address,
# request reference and run of four or more digits (a code, a phone number) is encoded as one
# stand-in of its kind. The classifier learns the same from "jane@example.com" as from the
# address a visitor types, and the thousands of different addresses and codes typed into the
# request forms are one cache entry each instead of one encoder pass each (`make bench`: they
# were most of the encoder's passes under load). A reference keeps its prefix, which names a kind.
_STAND_INS = (
    # ASCII local parts only: Python's \w takes the Han before an address typed without a space.
    (
        re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^`{|}~_-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
        "name@example.com",
    ),
    (
        re.compile(rf"(?i)\b([A-Z]{{{PREFIX_LENGTH}}})-[{REFERENCE_ALPHABET}]{{{CODE_LENGTH}}}\b"),
        r"\1-7K3M9Q",
    ),
    (re.compile(r"\d{4,}"), "123456"),
)


def encoder_text(text: str) -> str:
    """The text the sentence encoder is given for `text` (and the cache's key for it). Offsets
    into it are not offsets into `text`: for sentence vectors only, not per-token ones."""
    for pattern, stand_in in _STAND_INS:
        text = pattern.sub(stand_in, text)
    return text


class EncodingCache(Generic[T]):
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = max(0, size)
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, text: str) -> Optional[T]:
        with self._lock:
            found = self._items.get(text)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(text)
            self.hits += 1
            return found

    def put(self, text: str, encoded: T) -> None:
        if not self.size:
            return
        with self._lock:
            self._items[text] = encoded
            self._items.move_to_end(text)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __contains__(self, text: str) -> bool:
        with self._lock:
            return text in self._items

    def encode(self, texts: Sequence[str], encode: Callable[[Sequence[str]], List[T]]) -> List[T]:
        """Each text's encoding, computing (in one batch) only those not held already."""
        found = [self.get(t) for t in texts]
        missing = [t for t, e in zip(texts, found, strict=True) if e is None]
        if missing:
            fresh = dict(zip(missing, encode(missing), strict=True))
            for text, encoded in fresh.items():
                self.put(text, encoded)
            found = [e if e is not None else fresh[t] for t, e in zip(texts, found, strict=True)]
        return [e for e in found if e is not None]


class Prefetcher(Generic[T]):
    """Encodes texts in one worker thread, off the event loop, into the cache, in batches.

    For a short message the encoder's time goes into reading its weights (about 40 MB per pass),
    not into arithmetic, so one pass over eight messages costs little more than over one. Texts
    that arrive while a pass runs wait for the next one, which takes them all: under load the
    batches grow by themselves, and a visitor alone waits for one pass as before."""

    def __init__(
        self,
        cache: EncodingCache[T],
        encode: Callable[[Sequence[str]], List[T]],
        max_batch: int = 32,
        wants: Callable[[str], bool] = lambda text: True,
    ) -> None:
        self.cache = cache
        self.encode = encode
        self.wants = wants  # which (normalised) texts this encoder is asked to encode at all
        self.max_batch = max(1, max_batch)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encoder")
        self._waiting: Dict[str, asyncio.Future] = {}
        self._draining = False
        self.batches: List[int] = []  # the size of each pass, for the benchmark and the tests

    async def prefetch(self, text: str) -> None:
        """Encodes the text the featurizer will see: normalised (bot.core.language.normalise) as
        the pipeline's LanguageDetector leaves it, so a full-width or Traditional message is a
        hit too, with its identifiers' stand-ins (`encoder_text`)."""
        if not text or text.startswith("/") or not self.cache.size:
            return
        text = encoder_text(normalise(text))
        if not self.wants(text):
            return
        if text in self.cache:
            return
        future = self._waiting.get(text)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiting[text] = future
            if not self._draining:
                self._draining = True
                asyncio.ensure_future(self._drain())
        await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                texts = list(self._waiting)[: self.max_batch]
                futures = [self._waiting.pop(text) for text in texts]
                try:
                    encoded = await loop.run_in_executor(self._pool, self.encode, texts)
                except Exception as error:  # noqa: BLE001 - each waiting message gets it
                    for future in futures:
                        if not future.done():
                            future.set_exception(error)
                    continue
                self.batches.append(len(texts))
                del self.batches[:-1000]
                for text, future, one in zip(texts, futures, encoded, strict=True):
                    self.cache.put(text, one)
                    if not future.done():
                        future.set_result(None)
        finally:
            self._draining = False


_CACHE: Optional[EncodingCache[Encoded]] = None
_MULTILINGUAL_CACHE: Optional[EncodingCache[np.ndarray]] = None


def _size() -> int:
    from bot.core.settings import load_settings

    return load_settings().encoder_cache_size


def process_cache() -> EncodingCache[Encoded]:
    """The English encoder's cache in this process (the channels fill it, the featurizer reads
    it); `ENCODER_CACHE_SIZE` entries, 0 to switch it off (`make bench` measures both)."""
    global _CACHE
    if _CACHE is None:
        _CACHE = EncodingCache(_size())
    return _CACHE


def multilingual_cache() -> EncodingCache[np.ndarray]:
    """The multilingual encoder's cache (`bot.nlu.multilingual`), under the same keys and size."""
    global _MULTILINGUAL_CACHE
    if _MULTILINGUAL_CACHE is None:
        _MULTILINGUAL_CACHE = EncodingCache(_size())
    return _MULTILINGUAL_CACHE
