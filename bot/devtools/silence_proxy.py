"""A stand-in for the trained intent classifier, for measuring the router without Rasa.

The router's verdict today is the cue words and the intent classifier's `ask_not_covered`; to
replay it out of fold, each fold needs an intent ranking from a model that never saw the
question. This is the pipeline's model (logistic regression, lbfgs, balanced classes, 150
iterations) on the pipeline's sentence features as scikit-learn gives them: word counts (jieba's
words inside Han runs, the lexicon's tokenizer words kept whole), char_wb 1-4 counts, and both
encoders' unit vectors x10 (docs/pipelines/languages.md ran its sweep the same way). It lacks
spaCy's lemmas, so its figures are close to the live model's, not equal.
"""

from __future__ import annotations

import re
from typing import List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse

from bot.core.language import HAN, normalise
from bot.nlu import chinese

SCALE = 10.0
MAX_ITER = 150
_RUNS = re.compile(f"({HAN.pattern}+)|([0-9a-z]+(?:'[a-z]+)?)")

Vectors = Sequence[Tuple[Optional[np.ndarray], np.ndarray]]
Ranking = Tuple[Tuple[str, float], ...]


def words(text: str) -> List[str]:
    """Latin words and jieba's words of each Han run, of the normalised lower-case text."""
    out: List[str] = []
    for match in _RUNS.finditer(normalise(text).lower()):
        han, latin = match.groups()
        if han:
            out += [word for word, _, _ in chinese.segment(han)]
        else:
            out.append(latin)
    return out


class IntentProxy:
    """Fit on (text, intent) pairs with both encoders' vectors; rank intents of new texts."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        self.words = CountVectorizer(tokenizer=words, lowercase=False, token_pattern=None)
        self.chars = CountVectorizer(analyzer="char_wb", ngram_range=(1, 4), lowercase=True)
        self.labels: Tuple[str, ...] = ()
        self.model: object = None

    def _dense(self, vectors: Vectors) -> scipy.sparse.csr_matrix:
        rows = [
            np.concatenate([np.zeros(384) if own is None else own, shared]) * SCALE
            for own, shared in vectors
        ]
        return scipy.sparse.csr_matrix(np.stack(rows))

    def _x(self, texts: Sequence[str], vectors: Vectors) -> scipy.sparse.csr_matrix:
        normalised = [normalise(t) for t in texts]
        return scipy.sparse.hstack(
            [
                self.words.transform(normalised),
                self.chars.transform(normalised),
                self._dense(vectors),
            ]
        ).tocsr()

    def fit(self, texts: Sequence[str], intents: Sequence[str], vectors: Vectors) -> IntentProxy:
        from sklearn.linear_model import LogisticRegression

        normalised = [normalise(t) for t in texts]
        self.words.fit(normalised)
        self.chars.fit(normalised)
        model = LogisticRegression(
            solver="lbfgs", max_iter=MAX_ITER, class_weight="balanced", random_state=42
        )
        model.fit(self._x(texts, vectors), list(intents))
        self.model = model
        self.labels = tuple(str(c) for c in model.classes_)
        return self

    def rank(self, texts: Sequence[str], vectors: Vectors) -> List[Ranking]:
        if not texts:
            return []
        probabilities = self.model.predict_proba(self._x(texts, vectors))  # type: ignore[attr-defined]
        out = []
        for row in probabilities:
            order = np.argsort(-row, kind="stable")[:10]
            out.append(tuple((self.labels[i], float(row[i])) for i in order))
        return out
