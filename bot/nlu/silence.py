"""Whether the policy addresses a question, as a calibrated probability instead of a cue word.

The coverage map's cues (`bot.policy.coverage`) were patched question by question; nobody knew how
often one fires on a question the policy does answer ("will I be notified when the terms
change" is the update section, not a data breach). This is a logistic regression over the two
sentence encoders' vectors of the question (all-MiniLM-L6-v2 for English, none for Chinese, as the
intent classifier reads them; USE multilingual for both) and the cues' findings as features
(`CueSignals`), fitted on our own examples (`ask_<section>`: addressed, `ask_not_covered`:
silent) by `python -m bot silence --write`, which also picks each language's threshold out of
fold and keeps the trade-off table beside it in `data/calibration/silence.yml`.

Scoring is a dot product, done in `bot.rasa.components.PolicyEvidence` from the vectors the
featurizers already made; the probability travels to the router in the evidence.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import yaml

from bot.core.paths import DATA_DIR
from bot.nlu.encoder import DIMENSION as ENGLISH_DIMENSION
from bot.nlu.multilingual import DIMENSION as MULTILINGUAL_DIMENSION
from bot.policy.coverage import CUE_SIGNALS, CueSignals

SILENCE_FILE = DATA_DIR / "calibration" / "silence.yml"
ENGLISH, MULTILINGUAL, CUES = "english", "multilingual", "cues"
WIDTHS = {ENGLISH: ENGLISH_DIMENSION, MULTILINGUAL: MULTILINGUAL_DIMENSION, CUES: len(CUE_SIGNALS)}
BLOCKS = (ENGLISH, MULTILINGUAL, CUES)  # the order of the weights
DECIMALS = 5  # the weights as written: small, readable in a diff, the same on every run


def features(
    english: Optional[np.ndarray],
    multilingual: Optional[np.ndarray],
    signals: CueSignals,
    scale: float,
) -> np.ndarray:
    """One question's feature row: each encoder's unit vector times `scale` (zeros where there is
    none: the English encoder gives a Chinese question none), then the cues' findings as 0/1."""
    parts = [
        np.zeros(WIDTHS[ENGLISH]) if english is None else np.asarray(english, float) * scale,
        np.zeros(WIDTHS[MULTILINGUAL])
        if multilingual is None
        else np.asarray(multilingual, float) * scale,
        np.array(signals.as_tuple(), dtype=float),
    ]
    return np.concatenate(parts)


@dataclass(frozen=True)
class SilenceModel:
    """The fitted weights (in `BLOCKS` order), the scale the vectors were given, and each
    language's calibrated threshold (a question is silent at or above it)."""

    weights: np.ndarray
    bias: float
    scale: float
    thresholds: Mapping[str, float]

    def logit(self, row: np.ndarray) -> float:
        return float(self.weights @ row + self.bias)

    def probability(
        self,
        english: Optional[np.ndarray],
        multilingual: Optional[np.ndarray],
        signals: CueSignals,
    ) -> float:
        """How likely the policy is silent on the question (0-1)."""
        z = self.logit(features(english, multilingual, signals, self.scale))
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def threshold(self, language: str) -> Optional[float]:
        value = self.thresholds.get(language)
        return None if value is None else float(value)

    def to_data(self) -> Dict[str, Any]:
        """The `model:` block of the file: weights by block, rounded."""
        weights: Dict[str, List[float]] = {}
        start = 0
        for block in BLOCKS:
            width = WIDTHS[block]
            weights[block] = [
                round(float(w), DECIMALS) for w in self.weights[start : start + width]
            ]
            start += width
        return {
            "scale": self.scale,
            "bias": round(self.bias, DECIMALS),
            "cues": list(CUE_SIGNALS),
            "weights": weights,
        }

    @classmethod
    def from_data(cls, model: Mapping[str, Any], thresholds: Mapping[str, Any]) -> SilenceModel:
        if list(model.get("cues") or ()) != list(CUE_SIGNALS):
            raise ValueError("silence model: its cue features are not the map's CUE_SIGNALS")
        parts = []
        for block in BLOCKS:
            values = list((model.get("weights") or {}).get(block) or ())
            if len(values) != WIDTHS[block]:
                raise ValueError(
                    f"silence model: {len(values)} {block} weights, not {WIDTHS[block]}"
                )
            parts.append(np.array(values, dtype=float))
        return cls(
            np.concatenate(parts),
            float(model["bias"]),
            float(model["scale"]),
            {str(k): float(v) for k, v in (thresholds or {}).items()},
        )


def fit(rows: Sequence[np.ndarray], silent: Sequence[bool], c: float, scale: float) -> SilenceModel:
    """Logistic regression (lbfgs, balanced classes) on feature rows; no thresholds yet."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(
        C=c, solver="lbfgs", max_iter=2000, class_weight="balanced", random_state=42
    )
    model.fit(np.stack(rows), np.array(silent, dtype=int))
    return SilenceModel(model.coef_[0].astype(float), float(model.intercept_[0]), scale, {})


def rounded(model: SilenceModel) -> SilenceModel:
    """The model as the file keeps it (weights to `DECIMALS`), so that what is measured after
    writing is what the router will use."""
    data = model.to_data()
    return SilenceModel.from_data(data, model.thresholds)


@functools.lru_cache(maxsize=4)
def load_silence_model(path: Path = SILENCE_FILE) -> Optional[SilenceModel]:
    """The fitted model (read once per process), or None without a file: then no question gets a
    silence probability and the router keeps the cue words' verdict."""
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not data.get("model"):
        return None
    return SilenceModel.from_data(data["model"], data.get("thresholds") or {})


def threshold(language: str, path: Path = SILENCE_FILE) -> Optional[float]:
    """A language's calibrated silence threshold; None when it has none (no model, or a
    language the model was not calibrated for)."""
    model = load_silence_model(path)
    return model.threshold(language) if model is not None else None
