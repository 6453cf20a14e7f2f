"""The fast linear classifier gives what scikit-learn's logistic regression gives."""

import numpy as np
import pytest
import scipy.sparse
from sklearn.linear_model import LogisticRegression

from bot.nlu.linear import LinearModel, fit


def data(classes=3, n=60, seed=0):
    rng = np.random.default_rng(seed)
    labels = [f"intent_{i % classes}" for i in range(n)]
    examples = []
    for _i, label in enumerate(labels):
        k = int(label[-1])
        sparse = scipy.sparse.csr_matrix(rng.poisson(0.3, size=(1, 20)) + (np.arange(20) == k))
        dense = rng.normal(size=(1, 8)) + k
        examples.append({"words": sparse, "encoder": dense})
    return examples, labels


@pytest.mark.parametrize("classes", [2, 3])
def test_probabilities_match_scikit_learn_on_the_stacked_features(classes):
    examples, labels = data(classes)
    model = fit(examples, labels)
    stacked = scipy.sparse.vstack(
        [scipy.sparse.hstack([e["words"], e["encoder"]]) for e in examples]
    ).tocsr()  # Rasa's order: sparse first
    reference = LogisticRegression(
        solver="lbfgs", max_iter=500, class_weight="balanced", tol=1e-4, random_state=42
    ).fit(stacked, labels)
    for row, example in zip(stacked[:10], examples[:10], strict=True):
        assert np.allclose(model.probabilities(example), reference.predict_proba(row)[0], atol=1e-6)


def test_a_missing_block_counts_as_zero_and_the_model_survives_saving():
    examples, labels = data()
    model = fit(examples, labels)
    restored = LinearModel.from_arrays(model.to_arrays())
    only_words = {"words": examples[0]["words"]}
    assert restored.ranking(only_words) == model.ranking(only_words)
    zeros = {"words": scipy.sparse.csr_matrix((1, 20)), "encoder": np.zeros((1, 8))}
    assert np.allclose(model.probabilities(zeros), model.probabilities({}))
