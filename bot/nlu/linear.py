"""Logistic regression over several feature blocks, scored without stacking them.

The model is the one Rasa's `LogisticRegressionClassifier` fits (scikit-learn, lbfgs, balanced
class weights, the same X: every featurizer's sentence features side by side). Only predicting
differs: Rasa stacks each message's sparse and dense features into one new sparse matrix and asks
scikit-learn, which profiling showed to cost ~3 ms a message on the event loop; here each block
is multiplied by its own slice of the weights, which takes microseconds and gives the same
probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Sequence, Tuple, Union

import numpy as np
import scipy.sparse

Block = Union[np.ndarray, scipy.sparse.spmatrix]


def _row(block: Block) -> np.ndarray:
    if scipy.sparse.issparse(block):
        sparse: Any = block  # scipy has no type hints, so issparse() cannot narrow the union
        return sparse.toarray()
    return np.asarray(block)


@dataclass(frozen=True)
class LinearModel:
    labels: Tuple[str, ...]
    blocks: Tuple[Tuple[str, int], ...]  # (feature origin, width), in the order of the weights
    weights: np.ndarray  # (labels, total width)
    bias: np.ndarray  # (labels,)

    def _slices(self) -> Dict[str, slice]:
        out, start = {}, 0
        for origin, width in self.blocks:
            out[origin] = slice(start, start + width)
            start += width
        return out

    def probabilities(self, features: Mapping[str, Block]) -> np.ndarray:
        """One message's class probabilities from its blocks (a missing block counts as 0)."""
        logits = self.bias.astype(np.float64).copy()
        for origin, where in self._slices().items():
            block = features.get(origin)
            if block is None:
                continue
            part = self.weights[:, where]
            if scipy.sparse.issparse(block):
                logits += np.asarray(block.dot(part.T)).ravel()
            else:
                logits += part @ np.asarray(block, dtype=np.float64).ravel()
        logits -= logits.max()
        exp = np.exp(logits)
        return exp / exp.sum()

    def ranking(self, features: Mapping[str, Block]) -> List[Tuple[str, float]]:
        probs = self.probabilities(features)
        order = np.argsort(-probs, kind="stable")
        return [(self.labels[i], float(probs[i])) for i in order]

    def to_arrays(self) -> Dict[str, np.ndarray]:
        return {
            "labels": np.array(self.labels),
            "origins": np.array([o for o, _ in self.blocks]),
            "widths": np.array([w for _, w in self.blocks]),
            "weights": self.weights,
            "bias": self.bias,
        }

    @classmethod
    def from_arrays(cls, data: Mapping[str, np.ndarray]) -> LinearModel:
        blocks = tuple(
            (str(o), int(w)) for o, w in zip(data["origins"], data["widths"], strict=True)
        )
        return cls(
            tuple(str(x) for x in data["labels"]),
            blocks,
            np.asarray(data["weights"]),
            np.asarray(data["bias"]),
        )


def fit(
    examples: Sequence[Mapping[str, Block]],
    labels: Sequence[str],
    max_iter: int = 500,
    random_state: int = 42,
) -> LinearModel:
    """The model Rasa's logistic regression would fit on the same sentence features."""
    from sklearn.linear_model import LogisticRegression

    # Rasa's order: the sparse blocks, then the dense ones, each as the featurizers ran; the
    # same columns in the same order make scikit-learn reach the same solution.
    widths: Dict[str, Tuple[bool, int, int]] = {}
    for features in examples:
        for origin, block in features.items():
            if origin not in widths:
                widths[origin] = (
                    not scipy.sparse.issparse(block),
                    len(widths),
                    int(block.shape[-1]),
                )
    blocks = tuple((o, w) for o, (_, _, w) in sorted(widths.items(), key=lambda i: i[1][:2]))
    rows = []
    for features in examples:
        parts = [
            scipy.sparse.csr_matrix(features[o])
            if o in features
            else scipy.sparse.csr_matrix((1, w))
            for o, w in blocks
        ]
        rows.append(scipy.sparse.hstack(parts))
    x = scipy.sparse.vstack(rows).tocsr()
    model = LogisticRegression(
        solver="lbfgs",
        max_iter=max_iter,
        class_weight="balanced",
        tol=1e-4,
        random_state=random_state,
    )
    model.fit(x, list(labels))
    weights, bias = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # scikit-learn keeps one row for two classes
        weights = np.vstack([-weights / 2, weights / 2])
        bias = np.array([-bias[0] / 2, bias[0] / 2])
    return LinearModel(
        tuple(str(c) for c in model.classes_),
        blocks,
        weights.astype(np.float64),
        bias.astype(np.float64),
    )
