"""NLU puts the silence classifier's probability into the evidence, from the vectors the
featurizers already made: what the router reads to decide whether the policy addresses a
question."""

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu import silence
from bot.nlu.evidence import EVIDENCE_KEY, Evidence
from bot.policy.coverage import load_coverage
from bot.rasa.components import (
    MULTILINGUAL_VECTOR,
    SENTENCE_VECTOR,
    LanguageDetector,
    MultilingualSentenceFeaturizer,
    PolicyEvidence,
    SentenceEncoderFeaturizer,
)

pytestmark = pytest.mark.usefixtures("cached_encoder")
CONTEXT = ExecutionContext(GraphSchema({}), "test")


def parsed(texts, tmp_path):
    messages = [Message(data={TEXT: t}) for t in texts]
    LanguageDetector.create({}, None, None, CONTEXT).process(messages)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(messages)
    english = {**SentenceEncoderFeaturizer.get_default_config(), "han": "zero"}
    SentenceEncoderFeaturizer.create(english, None, None, CONTEXT).process(messages)
    multilingual = MultilingualSentenceFeaturizer.get_default_config()
    MultilingualSentenceFeaturizer.create(multilingual, None, None, CONTEXT).process(messages)
    storage = LocalModelStorage(tmp_path)
    evidence = PolicyEvidence.load({}, storage, Resource("none"), CONTEXT)
    evidence.process(messages)
    return messages


def test_every_message_gets_the_probability_the_shipped_model_gives_it(tmp_path):
    model = silence.load_silence_model()
    assert model is not None
    texts = [
        "do you use my meetings to train AI",
        "who do you share my personal information with",
        "你们会获取我的位置信息吗",
        "你们把我的数据存储在哪里",
    ]
    messages = parsed(texts, tmp_path)
    found = []
    for message, text in zip(messages, texts, strict=True):
        evidence = Evidence.from_dict(message.as_dict(only_output_properties=True)[EVIDENCE_KEY])
        expected = model.probability(
            message.get(SENTENCE_VECTOR),
            message.get(MULTILINGUAL_VECTOR),
            load_coverage().signals(text),
        )
        assert evidence.silence == pytest.approx(expected, abs=5e-4)
        found.append(evidence.silence)
    # A Chinese message has no English vector, as at training.
    assert messages[2].get(SENTENCE_VECTOR) is None
    silent_en, addressed_en, silent_zh, addressed_zh = found
    assert silent_en >= model.threshold("en") > addressed_en
    assert silent_zh > 0.5 > addressed_zh


def test_without_a_model_there_is_no_probability_and_the_cues_decide(tmp_path, monkeypatch):
    monkeypatch.setattr(silence, "load_silence_model", lambda *a, **k: None)
    [message] = parsed(["do you use my meetings to train AI"], tmp_path)
    evidence = Evidence.from_dict(message.as_dict(only_output_properties=True)[EVIDENCE_KEY])
    assert evidence.silence is None
