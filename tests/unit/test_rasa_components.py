"""The encoder's graph components as Rasa runs them: features, evidence, persisted and loaded."""

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.evidence import EVIDENCE_KEY, Evidence, policy_sentences
from bot.policy.document import load_policy
from bot.rasa.components import SENTENCE_VECTOR, PolicyEvidence, SentenceEncoderFeaturizer

# The components get the session's caching encoder (tests/unit/conftest.py): PolicyEvidence
# encodes every policy sentence each time it is created or loaded, the same batch every time.
pytestmark = pytest.mark.usefixtures("cached_encoder")

CONTEXT = ExecutionContext(GraphSchema({}), "test")
EXAMPLES = {
    "ask_sharing": ["who do you share my data with", "do you sell my information",
                    "which companies get my details", "is my data given to partners"],
    "ask_storage": ["where is my data kept", "in which country are your servers",
                    "is my information stored abroad", "where do you store my data"],
}


def tokenized(texts):
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    messages = [Message(data={TEXT: t}) for t in texts]
    tokenizer.process(messages)
    return messages


def featurizer(scale=1.0):
    config = {**SentenceEncoderFeaturizer.get_default_config(), "scale": scale}
    return SentenceEncoderFeaturizer.create(config, None, None, CONTEXT)


def test_the_featurizer_gives_a_sentence_vector_and_one_vector_per_token():
    [message] = tokenized(["who keeps my data"])
    featurizer(scale=10).process([message])
    sequence, sentence = message.get_dense_features(TEXT)
    assert sentence.features.shape == (1, 384) and sequence.features.shape == (4, 384)
    assert np.isclose(np.linalg.norm(sentence.features), 10.0, atol=1e-3)
    assert np.isclose(np.linalg.norm(message.get(SENTENCE_VECTOR)), 1.0, atol=1e-5)


def test_a_scale_that_is_not_positive_is_refused():
    with pytest.raises(ValueError):
        featurizer(scale=0)


def test_evidence_is_trained_persisted_loaded_and_put_in_the_parse_data(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("policy_evidence")
    messages = []
    for intent, texts in EXAMPLES.items():
        for message in tokenized(texts):
            message.set(INTENT, intent)
            messages.append(message)
    training = TrainingData(training_examples=messages)
    featurizer().process_training_data(training)
    component = PolicyEvidence.create(PolicyEvidence.get_default_config(), storage, resource,
                                      CONTEXT)
    component.train(training)
    loaded = PolicyEvidence.load(PolicyEvidence.get_default_config(), storage, resource, CONTEXT)
    assert loaded.part_classifier.labels == ("ask_sharing", "ask_storage")

    [message] = tokenized(["which companies do you share my data with and where is it kept"])
    featurizer().process([message])
    loaded.process([message])
    output = message.as_dict(only_output_properties=True)
    evidence = Evidence.from_dict(output[EVIDENCE_KEY])
    assert len(evidence.scores) == len(policy_sentences(load_policy()))
    assert [p.intent for p in evidence.parts] == ["ask_sharing", "ask_storage"]
    best = policy_sentences(load_policy())[int(np.argmax(evidence.parts[1].scores))]
    assert best.section_id == "storage", best


def test_a_model_without_a_part_classifier_still_loads(tmp_path):
    storage = LocalModelStorage(tmp_path)
    loaded = PolicyEvidence.load({}, storage, Resource("nothing"), CONTEXT)
    assert loaded.part_classifier is None


def test_the_linear_classifier_predicts_what_rasas_logistic_regression_predicts(tmp_path):
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
        CountVectorsFeaturizer,
    )

    from bot.rasa.components import LinearIntentClassifier

    storage = LocalModelStorage(tmp_path)
    messages = []
    for intent, texts in EXAMPLES.items():
        for message in tokenized(texts):
            message.set(INTENT, intent)
            messages.append(message)
    training = TrainingData(training_examples=messages)
    words = CountVectorsFeaturizer.create(CountVectorsFeaturizer.get_default_config(), storage,
                                          Resource("words"), CONTEXT)
    words.train(training)
    words.process_training_data(training)
    featurizer(scale=10).process_training_data(training)
    ours = LinearIntentClassifier.create({}, storage, Resource("linear"), CONTEXT)
    ours.train(training)
    ours = LinearIntentClassifier.load({}, storage, Resource("linear"), CONTEXT)
    rasas = LogisticRegressionClassifier.create({"max_iter": 500}, storage, Resource("lr"),
                                                CONTEXT)
    rasas.train(training)

    def read(classifier, text):
        [message] = tokenized([text])
        words.process([message])
        featurizer(scale=10).process([message])
        classifier.process([message])
        return {r["name"]: r["confidence"] for r in message.get("intent_ranking")}

    for text in ("where are my details kept", "who do you give my data to"):
        mine, theirs = read(ours, text), read(rasas, text)
        assert mine.keys() == theirs.keys()
        assert all(abs(mine[k] - theirs[k]) < 1e-4 for k in mine), (mine, theirs)
