"""The sentence encoder inside Rasa, through its supported extension point: graph components.

`SentenceEncoderFeaturizer` is a dense featurizer (all-MiniLM-L6-v2, `bot.nlu.encoder`): it gives
every message a sentence vector and one vector per token, so `rasa train`, `rasa test` and
cross-validation all see it, and any classifier in `config.yml` (logistic regression, DIET) can use
it beside the sparse n-grams. `PolicyEvidence` reuses that same vector (nothing is encoded twice
for a one-part question) to score every policy sentence and to read each part of a two-part
question; the result travels in the parse data to the action server (`bot.nlu.evidence`).
`LinearIntentClassifier` is Rasa's logistic regression with a faster prediction (`bot.nlu.linear`).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import evidence, linear
from bot.nlu.encoder import DIMENSION, Encoded, load_encoder
from bot.nlu.encoding_cache import process_cache

log = logging.getLogger(__name__)

SENTENCE_VECTOR = "sentence_vector"  # the message's own vector, kept for the components after
TOKENS = TOKENS_NAMES[TEXT]


def _texts(messages: List[Message]) -> List[Message]:
    return [m for m in messages if m.get(TEXT)]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense features from all-MiniLM-L6-v2: a sentence vector and each token's vector.

    `scale` multiplies both. Logistic regression shares one regularisation strength across the
    sparse counts (0, 1, 2, ...) and these unit-length vectors (entries near 0.05); without a
    scale the n-grams drown the encoder (README, "Language understanding")."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "scale": 1.0, "sequence_features": True}

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise ValueError("SentenceEncoderFeaturizer: `scale` must be positive")

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.scale = float(self._config["scale"])
        self.sequence_features = bool(self._config["sequence_features"])
        self.encoder = load_encoder()

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentenceEncoderFeaturizer:
        return cls(config, execution_context.node_name)

    def _token_matrix(self, message: Message, encoded: Encoded) -> Optional[np.ndarray]:
        """One vector per Rasa token (the mean of its WordPieces), as DIET expects."""
        tokens = message.get(TOKENS) or []
        if not tokens:
            return None
        rows = []
        for token in tokens:
            vector = encoded.pooled_over(token.start, token.end)
            rows.append(vector if vector is not None else np.zeros(DIMENSION, dtype=np.float32))
        return np.stack(rows) * self.scale

    def _featurize(self, messages: List[Message], cached: bool) -> None:
        messages = _texts(messages)
        if not messages:
            return
        texts = [m.get(TEXT) for m in messages]
        encodings = (process_cache().encode(texts, self.encoder.encode_detailed) if cached
                     else self.encoder.encode_detailed(texts))
        for message, encoded in zip(messages, encodings, strict=True):
            message.set(SENTENCE_VECTOR, encoded.sentence)
            sequence = self._token_matrix(message, encoded) if self.sequence_features else None
            if self.sequence_features and sequence is None:
                continue  # no tokens: nothing a sequence model could line up with
            self.add_features_to_message(sequence, encoded.sentence[None, :] * self.scale, TEXT,
                                         message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples, cached=False)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Messages the channels encoded ahead (or that came before) cost a look-up."""
        self._featurize(messages, cached=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class PolicyEvidence(GraphComponent):
    """Scores every policy sentence against the message, and reads each part of a two-part
    question with a small classifier over sentence vectors fitted here at training."""

    FILE = "part_classifier.npz"

    @classmethod
    def required_components(cls) -> List[Type]:
        return [SentenceEncoderFeaturizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    def __init__(self, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 part_classifier: Optional[linear.LinearModel] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self.model_storage = model_storage
        self.resource = resource
        self.part_classifier = part_classifier
        self.encoder = load_encoder()
        from bot.policy.document import load_policy

        sentences = evidence.policy_sentences(load_policy())
        self.digest = evidence.digest(sentences)
        self.policy_vectors = self.encoder.encode([s.text for s in sentences])

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> PolicyEvidence:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples
                    if m.get(INTENT) and m.get(SENTENCE_VECTOR) is not None]
        if len({m.get(INTENT) for m in examples}) < 2:
            return self.resource
        vectors = np.stack([m.get(SENTENCE_VECTOR) for m in examples])
        self.part_classifier = evidence.fit_part_classifier(vectors,
                                                            [m.get(INTENT) for m in examples])
        with self.model_storage.write_to(self.resource) as directory:
            np.savez(directory / self.FILE, **self.part_classifier.to_arrays())
        return self.resource

    @classmethod
    def load(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> PolicyEvidence:
        part_classifier = None
        try:
            with model_storage.read_from(resource) as directory:
                part_classifier = linear.LinearModel.from_arrays(np.load(directory / cls.FILE))
        except (ValueError, FileNotFoundError, OSError):
            log.warning("No part classifier in the model: two-part questions get one answer")
        return cls(config, model_storage, resource, part_classifier)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in _texts(messages):
            vector = message.get(SENTENCE_VECTOR)
            if vector is None:
                continue
            clauses = evidence.split_clauses(message.get(TEXT))
            parts = []
            if len(clauses) >= 2:
                parts = list(zip(clauses, self.encoder.encode(clauses), strict=True))
            found = evidence.gather(vector, self.policy_vectors, self.digest, parts,
                                    self.part_classifier)
            message.set(evidence.EVIDENCE_KEY, found.to_dict(), add_to_output=True)
        return messages


def sentence_features(message: Message) -> Dict[str, Any]:
    """Each featurizer's sentence features of the message's text, by the featurizer's name."""
    out: Dict[str, Any] = {}
    for feature in message.features:
        if feature.attribute == TEXT and feature.type == FEATURE_TYPE_SENTENCE:
            name = str(feature.origin)
            # Two featurizers under one name (an alias given twice) must not hide each other.
            key, copy = name, 1
            while key in out:
                copy += 1
                key = f"{name}#{copy}"
            out[key] = feature.features
    return out


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearIntentClassifier(IntentClassifier, GraphComponent):
    """Rasa's logistic regression (same model, same features), predicting without stacking the
    feature blocks first (`bot.nlu.linear`): microseconds instead of milliseconds a message."""

    FILE = "linear_intent_classifier.npz"

    @classmethod
    def required_components(cls) -> List[Type]:
        return []

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"max_iter": 500, "random_state": 42, "ranking_length": 10}

    def __init__(self, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 model: Optional[linear.LinearModel] = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self.model_storage = model_storage
        self.resource = resource
        self.model = model

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)]
        if len({m.get(INTENT) for m in examples}) < 2:
            return self.resource
        self.model = linear.fit([sentence_features(m) for m in examples],
                                [m.get(INTENT) for m in examples],
                                max_iter=int(self.config["max_iter"]),
                                random_state=int(self.config["random_state"]))
        with self.model_storage.write_to(self.resource) as directory:
            np.savez(directory / self.FILE, **self.model.to_arrays())
        return self.resource

    @classmethod
    def load(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LinearIntentClassifier:
        model = None
        try:
            with model_storage.read_from(resource) as directory:
                model = linear.LinearModel.from_arrays(np.load(directory / cls.FILE))
        except (ValueError, FileNotFoundError, OSError):
            log.warning("No intent classifier in the model: every message will be unclear")
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None:
            return messages
        length = int(self.config["ranking_length"])
        for message in messages:
            ranking = self.model.ranking(sentence_features(message))
            top_name, top_confidence = ranking[0]
            message.set(INTENT, {"name": top_name, "confidence": top_confidence},
                        add_to_output=True)
            shown = ranking[:length] if length > 0 else ranking
            message.set("intent_ranking", [{"name": n, "confidence": c} for n, c in shown],
                        add_to_output=True)
        return messages
