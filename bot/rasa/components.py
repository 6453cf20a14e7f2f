"""The sentence encoder inside Rasa, through its supported extension point: graph components.

`SentenceEncoderFeaturizer` is a dense featurizer (all-MiniLM-L6-v2, `bot.nlu.encoder`): it gives
every message a sentence vector and one vector per token, so `rasa train`, `rasa test` and
cross-validation all see it, and any classifier in `config.yml` (logistic regression, DIET) can use
it beside the sparse n-grams. `PolicyEvidence` reuses that same vector (nothing is encoded twice
for a one-part question) to score every policy sentence and to read each part of a two-part
question; the result travels in the parse data to the action server (`bot.nlu.evidence`).
`LinearIntentClassifier` is Rasa's logistic regression with a faster prediction (`bot.nlu.linear`).

The registered languages (`bot.core.language`): `LanguageDetector`, first in the pipeline, gives
every component after it the normalised text (half-width, Simplified; one character for one, so
offsets hold) and notes the language the visitor wrote in; `LanguageEntity`, last, puts the
visitor's own text back and adds the entity `language` (a registered language's code) the
`language` slot is mapped from. `HanSegmentingTokenizer` is spaCy's tokenizer with the words of
each language's own tokenizer (its registry entry) inside the runs of its script.

What the text change does to the tracker (checked on rasa 3.6.21, tests/unit/test_rasa_components.py
and the README): Rasa stores `UserUttered(message.text, ...)` with the text the channel received,
so `tracker.latest_message.text` and `from_text` slots are what the visitor typed either way; but
the parse data's "text" is the Message's TEXT after the pipeline, and the action server's
`tracker.latest_message["text"]` is read from the parse data. Without `LanguageEntity` putting
the typed text back, actions would see "请删除wang@x.cn" for "請刪除ｗａｎｇ＠ｘ．ｃｎ". Validators
normalise with bot.core.language themselves.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional, Tuple, Type, TypeVar

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.classifiers.fallback_classifier import (
    AMBIGUITY_THRESHOLD_KEY,
    THRESHOLD_KEY,
    FallbackClassifier,
)
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.spacy_tokenizer import POS_TAG_KEY, SpacyTokenizer
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import ENTITIES, FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.conversation.request_intent import STATUS, WITHDRAW, not_made, revised
from bot.conversation.routing import PROCESS_INTENT
from bot.core import language
from bot.nlu import chinese, evidence, linear, question_kind, silence
from bot.nlu.encoder import DIMENSION, Encoded, load_encoder
from bot.nlu.encoding_cache import encoder_text, multilingual_cache, process_cache
from bot.nlu.multilingual import load_multilingual
from bot.policy.coverage import load_coverage

log = logging.getLogger(__name__)

SENTENCE_VECTOR = "sentence_vector"  # the message's own vector, kept for the components after
MULTILINGUAL_VECTOR = "multilingual_vector"  # the same from the multilingual encoder
TOKENS = TOKENS_NAMES[TEXT]


LANGUAGE = "language"  # the message property and the entity: a registered language, or absent
TYPED_TEXT = "typed_text"  # what the visitor typed, before normalisation
SET_LANGUAGE = "set_language"  # the intent whose `language` entity is the language asked for


def _texts(messages: List[Message]) -> List[Message]:
    return [m for m in messages if m.get(TEXT)]


Made = TypeVar("Made", bound="_Stateless")


class _Stateless(GraphComponent):
    """A component that learns nothing and keeps nothing: made from no configuration, needing
    no other component before it, and leaving the training data as it is, unless it says
    otherwise."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return []

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls: Type[Made],
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Made:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class LanguageDetector(_Stateless):
    """First in the pipeline: every later component reads the normalised text (half-width,
    Simplified), and the language the visitor wrote in is noted (`bot.core.language.detect`)."""

    @staticmethod
    def _normalise(message: Message) -> None:
        typed = message.get(TEXT)
        normalised = language.normalise(typed)
        message.set(TYPED_TEXT, typed)
        if normalised != typed:
            message.set(TEXT, normalised)
        message.set(LANGUAGE, language.detect(typed), add_to_output=True)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in _texts(training_data.training_examples):
            self._normalise(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in _texts(messages):
            self._normalise(message)
        return messages


def requested_language(message: Message) -> Optional[str]:
    """For a `set_language` message, the language it names ("说英文" -> "en"); None otherwise."""
    intent = message.get(INTENT) or {}
    if intent.get("name") != SET_LANGUAGE:
        return None
    return language.named_language(message.get(TEXT) or "")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageEntity(_Stateless):
    """Last in the pipeline: the visitor's own text back in the parse data, and the entity
    `language`: the language asked for in a `set_language` message ("请用英文" -> "en"),
    otherwise the language written in when `detect` is sure (nothing for "ok", an e-mail, a code),
    so the slot keeps the conversation's language until the visitor writes in the other one."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [LanguageDetector]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in _texts(messages):
            typed = message.get(TYPED_TEXT)
            if typed is not None and typed != message.get(TEXT):
                message.set(TEXT, typed)
            value = requested_language(message) or message.get(LANGUAGE)
            entities = [e for e in message.get(ENTITIES, []) if e.get("entity") != LANGUAGE]
            if value in language.LANGUAGES:
                text = message.get(TEXT)
                entities.append(
                    {
                        "entity": LANGUAGE,
                        "value": value,
                        "start": 0,
                        "end": len(text),
                        "confidence_entity": 1.0,
                        "extractor": type(self).__name__,
                    }
                )
            message.set(ENTITIES, entities, add_to_output=True)
        return messages


# A registry `tokenizer` other than spaCy's: how it splits a token into (word, start, end).
SEGMENTERS: Dict[str, Callable[[str], List[Tuple[str, int, int]]]] = {"jieba": chinese.segment}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class HanSegmentingTokenizer(SpacyTokenizer):
    """spaCy's tokens, with each token written in a language whose registry entry names another
    tokenizer split into that one's words (jieba: `bot.nlu.chinese.segment`): "我想注销账号" is
    我/想/注销账号, not one token. Tokens of a language tokenised by spaCy, and their lemmas,
    are spaCy's, unchanged."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**SpacyTokenizer.get_default_config(), "segment_han": True}

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        tokens = super().tokenize(message, attribute)
        if not self._config.get("segment_han", True):
            return tokens
        out: List[Token] = []
        for token in tokens:
            written_in = language.registry().script_language(token.text)
            segment = SEGMENTERS.get(written_in.tokenizer) if written_in else None
            if segment is None:
                out.append(token)
                continue
            for word, start, end in segment(token.text):
                out.append(
                    Token(
                        word,
                        token.start + start,
                        token.start + end,
                        lemma=word,
                        data={POS_TAG_KEY: ""},
                    )
                )
        return out


class _EncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """What the two sentence-encoder featurizers share: a positive `scale`, and encoding the
    training examples directly but served messages through the cache the channels filled."""

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise ValueError(f"{cls.__name__}: `scale` must be positive")

    def _featurize(self, messages: List[Message], cached: bool) -> None:
        raise NotImplementedError

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples, cached=False)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Messages the channels encoded ahead (or that came before) cost a look-up."""
        self._featurize(messages, cached=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEncoderFeaturizer(_EncoderFeaturizer):
    """Dense features from all-MiniLM-L6-v2: a sentence vector and each token's vector.

    `scale` multiplies both. Logistic regression shares one regularisation strength across the
    sparse counts (0, 1, 2, ...) and these unit-length vectors (entries near 0.05); without a
    scale the n-grams drown the encoder (README, "Language understanding")."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "scale": 1.0,
            "sequence_features": True,
            "han": "encode",
        }

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        super().validate_config(config)
        if config.get("han", "encode") not in ("encode", "zero"):
            raise ValueError("SentenceEncoderFeaturizer: `han` is `encode` or `zero`")

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.scale = float(self._config["scale"])
        self.sequence_features = bool(self._config["sequence_features"])
        # "zero": a message with Han gets a zero vector and is not encoded (the encoder knows no
        # Chinese; the multilingual encoder reads it; docs/pipelines/languages.md).
        self.zero_han = self._config["han"] == "zero"
        self.encoder = load_encoder()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
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
        # Identifiers as stand-ins (`encoder_text`), unless per-token vectors must line up with
        # the message's own tokens.
        if self.zero_han:
            for message in messages:
                if language.has_han(message.get(TEXT)):
                    zero = np.zeros((1, DIMENSION), dtype=np.float32)
                    self.add_features_to_message(None, zero, TEXT, message)
            messages = [m for m in messages if not language.has_han(m.get(TEXT))]
        texts = [
            m.get(TEXT) if self.sequence_features else encoder_text(m.get(TEXT)) for m in messages
        ]
        encodings = (
            process_cache().encode(texts, self.encoder.encode_detailed)
            if cached
            else self.encoder.encode_detailed(texts)
        )
        for message, encoded in zip(messages, encodings, strict=True):
            message.set(SENTENCE_VECTOR, encoded.sentence)
            sequence = self._token_matrix(message, encoded) if self.sequence_features else None
            if self.sequence_features and sequence is None:
                continue  # no tokens: nothing a sequence model could line up with
            self.add_features_to_message(
                sequence, encoded.sentence[None, :] * self.scale, TEXT, message
            )


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class MultilingualSentenceFeaturizer(_EncoderFeaturizer):
    """A sentence vector from the multilingual encoder (`bot.nlu.multilingual`), for English and
    Chinese alike: the feature that lets the classifier read a Chinese question by its meaning,
    not by the characters it shares with a training example. Sentence features only (the
    logistic regression reads no others); `scale` as for `SentenceEncoderFeaturizer`."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return []

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**DenseFeaturizer.get_default_config(), "scale": 1.0}

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.scale = float(self._config["scale"])
        self.encoder = load_multilingual()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultilingualSentenceFeaturizer:
        return cls(config, execution_context.node_name)

    def _featurize(self, messages: List[Message], cached: bool) -> None:
        messages = _texts(messages)
        if not messages:
            return
        texts = [encoder_text(m.get(TEXT)) for m in messages]
        vectors = (
            multilingual_cache().encode(texts, self.encoder.encode_rows)
            if cached
            else self.encoder.encode_rows(texts)
        )
        for message, vector in zip(messages, vectors, strict=True):
            message.set(MULTILINGUAL_VECTOR, vector)
            self.add_features_to_message(None, vector[None, :] * self.scale, TEXT, message)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class PolicyEvidence(GraphComponent):
    """Scores every policy sentence against the message (the English encoder's cosine for
    English, character n-grams against the reference translation for Chinese), and reads each
    part of a two-part question with one small classifier for both languages, fitted here at
    training over the sentence vectors the featurizers left (`bot.nlu.evidence.part_features`).

    `scale` weighs those unit vectors against the classifier's one regularisation strength, as
    the featurizers' `scale` does for the intent classifier (measured: `python -m bot parts`)."""

    FILE = "part_classifier.npz"

    @classmethod
    def required_components(cls) -> List[Type]:
        return [SentenceEncoderFeaturizer]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"scale": 10.0}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        part_classifier: Optional[linear.LinearModel] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self.scale = float(self.config["scale"])
        self.model_storage = model_storage
        self.resource = resource
        self.part_classifier = part_classifier
        self.encoder = load_encoder()
        from bot.policy.document import load_policy

        sentences = evidence.policy_sentences(load_policy())
        self.digest = evidence.digest(sentences)
        self.policy_vectors = self.encoder.encode([s.text for s in sentences])
        self.spaces = evidence.translation_spaces(sentences)
        # Read at start-up from data/calibration/silence.yml, not stored in the model: refitting
        # the silence classifier (`python -m bot silence --write`) needs no retraining.
        self.silence = silence.load_silence_model()
        self.coverage = load_coverage()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PolicyEvidence:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [
            m
            for m in training_data.intent_examples
            if m.get(INTENT)
            and m.get(TEXT)
            and (m.get(SENTENCE_VECTOR) is not None or m.get(MULTILINGUAL_VECTOR) is not None)
        ]
        if len({m.get(INTENT) for m in examples}) >= 2:
            self.part_classifier = evidence.fit_part_classifier(
                [
                    evidence.part_features(
                        m.get(SENTENCE_VECTOR), m.get(MULTILINGUAL_VECTOR), self.scale
                    )
                    for m in examples
                ],
                [m.get(INTENT) for m in examples],
            )
        with self.model_storage.write_to(self.resource) as directory:
            if self.part_classifier is not None:
                np.savez(directory / self.FILE, **self.part_classifier.to_arrays())
        return self.resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> PolicyEvidence:
        part_classifier = None
        try:
            with model_storage.read_from(resource) as directory:
                if (directory / cls.FILE).exists():
                    part_classifier = linear.LinearModel.from_arrays(np.load(directory / cls.FILE))
        except (ValueError, FileNotFoundError, OSError, KeyError):
            log.warning("No part classifier in the model: two-part questions get one answer")
        return cls(config, model_storage, resource, part_classifier)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def _clauses(
        self, clauses: List[str], space: Optional[chinese.NgramSpace]
    ) -> List[evidence.Clause]:
        """Each clause's features and sentence scores, its vectors through the caches the
        featurizers use (a clause typed again, or as a message of its own, costs a look-up)."""
        model = self.part_classifier
        if model is None:
            return []
        # The classifier reads a clause that points back as what it points to; the sentences
        # are still scored against the clause as typed ("where is it kept" is nearer the storage
        # sentences than "where is my personal information kept", which is near every one).
        read = [encoder_text(c) for c in evidence.as_read(clauses)]
        typed = [encoder_text(c) for c in clauses]
        multilingual: List[Optional[np.ndarray]] = [None] * len(clauses)
        if evidence.reads(model, evidence.MULTILINGUAL_BLOCK):
            multilingual = list(multilingual_cache().encode(read, load_multilingual().encode_rows))
        english: Dict[str, np.ndarray] = {}
        if space is None:
            wanted = list(dict.fromkeys(read + typed))
            english = {
                text: e.sentence
                for text, e in zip(
                    wanted,
                    process_cache().encode(wanted, self.encoder.encode_detailed),
                    strict=True,
                )
            }
        reads_english = evidence.reads(model, evidence.ENGLISH_BLOCK)
        out = []
        for clause, as_read, as_typed, shared in zip(
            clauses, read, typed, multilingual, strict=True
        ):
            own = english.get(as_read)
            if own is not None:
                scores = self.policy_vectors @ english[as_typed]
            elif space is not None:
                scores = space.similarities(clause)
            else:
                continue
            features = evidence.part_features(own if reads_english else None, shared, self.scale)
            out.append(evidence.Clause(clause, features, scores))
        return out

    def process(self, messages: List[Message]) -> List[Message]:
        for message in _texts(messages):
            text = message.get(TEXT)
            # A message in a script of its own is scored against that language's translation.
            space = self.spaces.get(language.script_language(text) or "")
            vector = message.get(SENTENCE_VECTOR)
            if space is None and vector is None:
                continue
            scores = space.similarities(text) if space is not None else self.policy_vectors @ vector
            clauses = evidence.split_clauses(text)
            found = evidence.gather(
                scores,
                self.digest,
                self._clauses(clauses, space) if len(clauses) >= 2 else (),
                self.part_classifier,
                self._silence(message),
            )
            message.set(evidence.EVIDENCE_KEY, found.to_dict(), add_to_output=True)
        return messages

    def _silence(self, message: Message) -> Optional[float]:
        """How likely the policy is silent on the message (`bot.nlu.silence`), from the vectors
        the featurizers left and the coverage map's cues in the text as typed; None without a
        silence model or the multilingual vector it reads."""
        shared = message.get(MULTILINGUAL_VECTOR)
        if self.silence is None or shared is None:
            return None
        typed = message.get(TYPED_TEXT) or message.get(TEXT)
        return self.silence.probability(
            message.get(SENTENCE_VECTOR), shared, self.coverage.signals(typed)
        )


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

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[linear.LinearModel] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self.model_storage = model_storage
        self.resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)]
        if len({m.get(INTENT) for m in examples}) < 2:
            return self.resource
        self.model = linear.fit(
            [sentence_features(m) for m in examples],
            [m.get(INTENT) for m in examples],
            max_iter=int(self.config["max_iter"]),
            random_state=int(self.config["random_state"]),
        )
        with self.model_storage.write_to(self.resource) as directory:
            np.savez(directory / self.FILE, **self.model.to_arrays())
        return self.resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
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
            message.set(
                INTENT, {"name": top_name, "confidence": top_confidence}, add_to_output=True
            )
            shown = ranking[:length] if length > 0 else ranking
            message.set(
                "intent_ranking",
                [{"name": n, "confidence": c} for n, c in shown],
                add_to_output=True,
            )
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class HowLongIsAQuestion(_Stateless):
    """After the classifier: a message read as a request that only asks how long something takes
    (`bot.nlu.question_kind`) is a question about how requests are handled here (`intent`, by
    default ask_process: the deadline the assistant gives), with the same confidence; the
    request stays second in the ranking. Which intents are requests comes from the request
    registry."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"intent": PROCESS_INTENT}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> HowLongIsAQuestion:
        return cls({**cls.get_default_config(), **config})

    def __init__(self, config: Dict[str, Any]) -> None:
        from bot.requests.registry import BY_INTENT

        self.intent = str(config["intent"])
        self.requests = frozenset(BY_INTENT)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get("name") not in self.requests or not question_kind.asks_how_long_only(
                message.get(TEXT) or ""
            ):
                continue
            replace_intent(message, self.intent, swap=True)
        return messages


def replace_intent(message: Message, name: str, swap: bool = False, merge: bool = False) -> None:
    """The message's intent becomes `name`, first in the ranking, with the classifier's
    confidence; the intent it replaces stays in the ranking where it was. With `swap`, the
    replaced intent takes the confidence `name` had, so that the fallback does not read the two
    as a tie; with `merge`, `name` takes the belief in both (the classifier was sure of one of
    the two readings, and the rule says which) and the replaced intent none."""
    replaced = message.get(INTENT) or {}
    confidence = replaced.get("confidence") or 0.0
    had = next(
        (
            r.get("confidence") or 0.0
            for r in message.get("intent_ranking") or []
            if r.get("name") == name
        ),
        0.0,
    )
    ranking = [r for r in message.get("intent_ranking") or [] if r.get("name") != name]
    if swap or merge:
        ceded = 0.0 if merge else had
        ranking = [
            {**r, "confidence": ceded} if r.get("name") == replaced.get("name") else r
            for r in ranking
        ]
        ranking.sort(key=lambda r: -(r.get("confidence") or 0.0))
    if merge:
        confidence = min(1.0, confidence + had)
    message.set(INTENT, {"name": name, "confidence": confidence}, add_to_output=True)
    message.set(
        "intent_ranking", [{"name": name, "confidence": confidence}] + ranking, add_to_output=True
    )


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class NewOrMadeRequest(_Stateless):
    """After the classifier: a status lookup or a withdrawal only for a request already made, a
    request only when it is not one already made (`bot.conversation.request_intent`)."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")
            wanted = revised(intent, message.get(TEXT) or "")
            if wanted is not None:
                replace_intent(message, wanted, merge=True)
            if not_made(WITHDRAW, message.get(TEXT) or ""):
                _rule_out(message, (STATUS, WITHDRAW))
        return messages


def _rule_out(message: Message, names: Tuple[str, ...]) -> None:
    """The intents `names` keep no confidence in the ranking (unless one is the message's own)."""
    own = (message.get(INTENT) or {}).get("name")
    ranking = [
        {**r, "confidence": 0.0} if r.get("name") in names and r.get("name") != own else r
        for r in message.get("intent_ranking") or []
    ]
    ranking.sort(key=lambda r: -(r.get("confidence") or 0.0))
    message.set("intent_ranking", ranking, add_to_output=True)


THRESHOLDS_BY_LANGUAGE = "thresholds_by_language"
_THRESHOLD_KEYS = (THRESHOLD_KEY, AMBIGUITY_THRESHOLD_KEY)


def thresholds_by_language(given: Any) -> Dict[str, Dict[str, float]]:
    """`thresholds_by_language` as config.yml gives it, checked: registered languages only, and
    for each only `threshold` and `ambiguity_threshold`, as numbers."""
    if not given:
        return {}
    if not isinstance(given, dict):
        raise ValueError(f"{THRESHOLDS_BY_LANGUAGE}: a mapping of language to thresholds")
    out: Dict[str, Dict[str, float]] = {}
    for code, values in given.items():
        if code not in language.LANGUAGES:
            raise ValueError(f"{THRESHOLDS_BY_LANGUAGE}: {code!r} is not a registered language")
        if not isinstance(values, dict) or not set(values) <= set(_THRESHOLD_KEYS):
            raise ValueError(
                f"{THRESHOLDS_BY_LANGUAGE}.{code}: only {' and '.join(_THRESHOLD_KEYS)}"
            )
        out[code] = {key: float(value) for key, value in values.items() if value is not None}
    return out


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageFallbackClassifier(FallbackClassifier):
    """Rasa's FallbackClassifier with thresholds of its own for a registered language, chosen by
    the script a message is written in (`bot.core.language.script_language`; anything else is
    the default language's): over the same intents the classifier is less sure of a Chinese
    message (fewer features fire on a short run of Han than on an English sentence), and one
    threshold for both sends too many answerable ones to the fallback (README, "Languages").

    `thresholds_by_language` maps a language's code to its `threshold` and
    `ambiguity_threshold`; a threshold it does not give is the component's own."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**FallbackClassifier.get_default_config(), THRESHOLDS_BY_LANGUAGE: {}}

    def __init__(self, config: Dict[str, Any]) -> None:
        super().__init__(config)
        self.by_language = thresholds_by_language(config.get(THRESHOLDS_BY_LANGUAGE))

    def process(self, messages: List[Message]) -> List[Message]:
        default: Dict[str, Any] = dict(self.component_config)  # type: ignore[has-type]
        for message in messages:
            code = language.script_language(message.get(TEXT) or "") or language.DEFAULT
            self.component_config = {**default, **self.by_language.get(code, {})}
            try:
                super().process([message])
            finally:
                self.component_config = default
        return messages
