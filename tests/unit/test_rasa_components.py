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
from bot.rasa.components import (
    MULTILINGUAL_VECTOR,
    SENTENCE_VECTOR,
    MultilingualSentenceFeaturizer,
    PolicyEvidence,
    SentenceEncoderFeaturizer,
)

# The components get the session's caching encoder (tests/unit/conftest.py): PolicyEvidence
# encodes every policy sentence each time it is created or loaded, the same batch every time.
pytestmark = pytest.mark.usefixtures("cached_encoder")

CONTEXT = ExecutionContext(GraphSchema({}), "test")
EXAMPLES = {
    "ask_sharing": [
        "who do you share my data with",
        "do you sell my information",
        "which companies get my details",
        "is my data given to partners",
    ],
    "ask_storage": [
        "where is my data kept",
        "in which country are your servers",
        "is my information stored abroad",
        "where do you store my data",
    ],
}


def tokenized(texts):
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    messages = [Message(data={TEXT: t}) for t in texts]
    tokenizer.process(messages)
    return messages


def featurizer(scale=1.0, **options):
    config = {**SentenceEncoderFeaturizer.get_default_config(), "scale": scale, **options}
    return SentenceEncoderFeaturizer.create(config, None, None, CONTEXT)


def multilingual_featurizer(scale=1.0):
    config = {**MultilingualSentenceFeaturizer.get_default_config(), "scale": scale}
    return MultilingualSentenceFeaturizer.create(config, None, None, CONTEXT)


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


def test_a_chinese_message_gets_a_zero_english_vector_without_being_encoded():
    english, chinese = tokenized(["who keeps my data", "谁保存我的数据"])
    featurizer(scale=10, sequence_features=False, han="zero").process_training_data(
        TrainingData([english, chinese])
    )
    _, zero = chinese.get_dense_features(TEXT)
    assert zero.features.shape == (1, 384) and not zero.features.any()
    assert chinese.get(SENTENCE_VECTOR) is None  # never encoded by the English encoder
    _, sentence = english.get_dense_features(TEXT)
    assert np.isclose(np.linalg.norm(sentence.features), 10.0, atol=1e-3)
    assert english.get(SENTENCE_VECTOR) is not None


def test_the_multilingual_featurizer_gives_both_languages_one_scaled_sentence_vector():
    english, chinese, other = tokenized(
        ["please delete my account", "请删除我的账户", "what cookies does the website use"]
    )
    multilingual_featurizer(scale=10).process([english, chinese, other])
    for message in (english, chinese, other):
        sequence, sentence = message.get_dense_features(TEXT)
        assert sequence is None and sentence.features.shape == (1, 512)
        assert np.isclose(np.linalg.norm(sentence.features), 10.0, atol=1e-3)
    assert (
        chinese.get(MULTILINGUAL_VECTOR) @ english.get(MULTILINGUAL_VECTOR)
        > chinese.get(MULTILINGUAL_VECTOR) @ other.get(MULTILINGUAL_VECTOR) + 0.1
    )
    with pytest.raises(ValueError):
        multilingual_featurizer(scale=-1)


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
    component = PolicyEvidence.create(
        PolicyEvidence.get_default_config(), storage, resource, CONTEXT
    )
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


ZH_EXAMPLES = {
    "ask_sharing": [
        "你们和谁共享我的数据",
        "会把我的信息卖给别人吗",
        "哪些公司能拿到我的资料",
        "数据会提供给合作伙伴吗",
    ],
    "ask_storage": ["我的数据存在哪里", "服务器在哪个国家", "信息会存到国外吗", "你们把数据放在哪"],
}


def test_one_part_classifier_reads_the_parts_of_questions_in_both_languages(tmp_path):
    """Fitted on the English and Chinese examples' sentence vectors: a Chinese clause is read by
    the multilingual vector alone, an English one by both encoders' vectors."""
    storage = LocalModelStorage(tmp_path)
    resource = Resource("policy_evidence")
    english = featurizer(sequence_features=False, han="zero")
    multilingual = multilingual_featurizer(scale=10)
    messages = []
    for examples in (EXAMPLES, ZH_EXAMPLES):
        for intent, texts in examples.items():
            for message in tokenized(texts):
                message.set(INTENT, intent)
                messages.append(message)
    training = TrainingData(training_examples=messages)
    english.process_training_data(training)
    multilingual.process_training_data(training)
    PolicyEvidence.create({}, storage, resource, CONTEXT).train(training)
    loaded = PolicyEvidence.load({}, storage, resource, CONTEXT)
    assert {name for name, _ in loaded.part_classifier.blocks} == {"sentence", "multilingual"}

    asked = tokenized(
        [
            "你们会把数据卖给其他公司吗？另外数据存放在哪个国家？",
            "do you sell my details to other firms and where are they stored",
        ]
    )
    english.process(asked)
    multilingual.process(asked)
    loaded.process(asked)
    sentences = policy_sentences(load_policy())
    for message in asked:
        found = Evidence.from_dict(message.as_dict(only_output_properties=True)[EVIDENCE_KEY])
        assert [p.intent for p in found.parts] == ["ask_sharing", "ask_storage"], message.get(TEXT)
        best = sentences[int(np.argmax(found.parts[1].scores))]
        assert best.section_id == "storage", (message.get(TEXT), best)


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
    words = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("words"), CONTEXT
    )
    words.train(training)
    words.process_training_data(training)
    featurizer(scale=10).process_training_data(training)
    ours = LinearIntentClassifier.create({}, storage, Resource("linear"), CONTEXT)
    ours.train(training)
    ours = LinearIntentClassifier.load({}, storage, Resource("linear"), CONTEXT)
    rasas = LogisticRegressionClassifier.create({"max_iter": 500}, storage, Resource("lr"), CONTEXT)
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


# ------------------------------------------------------------------ two languages


def _detected(text):
    from bot.rasa.components import LanguageDetector

    message = Message(data={TEXT: text})
    LanguageDetector.create({}, None, None, CONTEXT).process([message])
    return message


def test_the_detector_normalises_what_later_components_read_and_notes_the_language():
    message = _detected("請刪除ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ的帳戶")
    assert message.get(TEXT) == "请删除wang@example.cn的帐户"
    assert message.get("typed_text") == "請刪除ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ的帳戶"
    assert message.as_dict(only_output_properties=True)["language"] == "zh"
    assert _detected("ok").get("language") is None


def _entity(text, intent=None):
    from bot.rasa.components import LanguageEntity

    message = _detected(text)
    if intent:
        message.set(INTENT, {"name": intent, "confidence": 0.9})
    message.set("entities", [{"entity": "email", "value": "a@b.cn"}])
    LanguageEntity.create({}, None, None, CONTEXT).process([message])
    return message


def test_the_entity_is_the_language_written_in_and_the_visitor_text_comes_back():
    message = _entity("刪除我的帳戶")
    output = message.as_dict(only_output_properties=True)
    assert output["text"] == "刪除我的帳戶"  # what the visitor typed, for the action server
    language = [e for e in output["entities"] if e["entity"] == "language"]
    assert [e["value"] for e in language] == ["zh"]
    assert {"entity": "email", "value": "a@b.cn"} in output["entities"]
    assert [
        e["value"]
        for e in _entity("Do you sell my data?").get("entities")
        if e["entity"] == "language"
    ] == ["en"]
    assert [
        e for e in _entity("wang@example.cn").get("entities") if e["entity"] == "language"
    ] == []


def test_a_language_switch_gives_the_language_asked_for():
    values = [
        e["value"]
        for e in _entity("请用英文回答", "set_language").get("entities")
        if e["entity"] == "language"
    ]
    assert values == ["en"]
    values = [
        e["value"]
        for e in _entity("Chinese please", "set_language").get("entities")
        if e["entity"] == "language"
    ]
    assert values == ["zh"]
    # naming a language is no switch in another intent
    values = [
        e["value"]
        for e in _entity("你们有英文的政策吗", "ask_overview").get("entities")
        if e["entity"] == "language"
    ]
    assert values == ["zh"]


def test_rasa_keeps_the_typed_text_on_the_event_but_the_action_server_reads_the_parse_data():
    """Why LanguageEntity puts the typed text back: Rasa 3.6 stores UserUttered(message.text),
    but its `parse_data` (and so the action server's `latest_message["text"]`) carries the
    pipeline's TEXT."""
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    event = UserUttered(
        "請刪除",
        {"name": "request_deletion"},
        [],
        {"text": "请删除", "intent": {"name": "request_deletion"}, "entities": []},
    )
    tracker = DialogueStateTracker.from_events("s", [event])
    assert tracker.latest_message.text == "請刪除"
    assert tracker.current_state()["latest_message"]["text"] == "请删除"


def test_the_tokenizer_splits_han_runs_into_words_and_leaves_english_alone():
    from bot.rasa.components import HanSegmentingTokenizer
    from bot.rasa.spacy_pipeline import build_pipeline

    nlp = build_pipeline()
    tokenizer = HanSegmentingTokenizer(HanSegmentingTokenizer.get_default_config())

    def tokens(text):
        message = Message(data={TEXT: text, "text_spacy_doc": nlp(text)})
        return [(t.text, t.start, t.end, t.lemma) for t in tokenizer.tokenize(message, TEXT)]

    words = tokens("我想注销账号，邮箱wang@x.cn")
    assert [w for w, *_ in words] == ["我", "想", "注销账号", "，", "邮箱", "wang@x.cn"]
    text = "我想注销账号，邮箱wang@x.cn"
    assert all(text[start:end] == word for word, start, end, _ in words)
    assert [lemma for *_, lemma in tokens("deleting my accounts")] == ["delete", "my", "account"]


def test_the_fallback_has_its_own_thresholds_for_chinese():
    from bot.rasa.components import LanguageFallbackClassifier

    config = {
        **LanguageFallbackClassifier.get_default_config(),
        "threshold": 0.3,
        "ambiguity_threshold": 0.05,
        "thresholds_by_language": {"zh": {"threshold": 0.15, "ambiguity_threshold": 0.02}},
    }
    fallback = LanguageFallbackClassifier.create(config, None, None, CONTEXT)

    def intent(text, confidence=0.2, second=0.1):
        message = Message(
            data={
                TEXT: text,
                INTENT: {"name": "ask_use", "confidence": confidence},
                "intent_ranking": [
                    {"name": "ask_use", "confidence": confidence},
                    {"name": "ask_sharing", "confidence": second},
                ],
            }
        )
        fallback.process([message])
        return message.get(INTENT)["name"]

    assert intent("how do you use my data") == "nlu_fallback"  # 0.2 < 0.3
    assert intent("你们怎么使用我的数据") == "ask_use"  # 0.2 >= 0.15
    assert intent("你们怎么使用我的数据", 0.12, 0.05) == "nlu_fallback"
    assert intent("你们怎么使用我的数据", 0.4, 0.39) == "nlu_fallback"  # ambiguous
    assert fallback.component_config["threshold"] == 0.3


def test_config_yml_gives_the_fallback_its_thresholds_by_language():
    """config.yml as Rasa reads it (its schema), and the fallback built from its entry: the
    thresholds it had before they moved into `thresholds_by_language`."""
    from rasa.shared.utils.io import read_model_configuration

    from bot.core.paths import ROOT
    from bot.rasa.components import LanguageFallbackClassifier

    pipeline = read_model_configuration(str(ROOT / "config.yml"))["pipeline"]
    (entry,) = [c for c in pipeline if c["name"].endswith(".LanguageFallbackClassifier")]
    options = {k: v for k, v in entry.items() if k != "name"}
    assert set(options) <= set(LanguageFallbackClassifier.get_default_config())
    fallback = LanguageFallbackClassifier.create(
        {**LanguageFallbackClassifier.get_default_config(), **options}, None, None, CONTEXT
    )
    assert (
        fallback.component_config["threshold"],
        fallback.component_config["ambiguity_threshold"],
    ) == (0.3, 0.05)
    assert fallback.by_language == {"zh": {"threshold": 0.15, "ambiguity_threshold": 0.02}}


@pytest.mark.parametrize(
    "given, problem",
    [
        ({"xx": {"threshold": 0.1}}, "not a registered language"),
        ({"zh": {"threshold_zh": 0.1}}, "only threshold and ambiguity_threshold"),
        ([0.15], "a mapping of language to thresholds"),
    ],
)
def test_thresholds_for_an_unknown_language_or_key_are_refused(given, problem):
    from bot.rasa.components import LanguageFallbackClassifier

    config = {**LanguageFallbackClassifier.get_default_config(), "thresholds_by_language": given}
    with pytest.raises(ValueError, match=problem):
        LanguageFallbackClassifier.create(config, None, None, CONTEXT)


def test_the_tokenizer_splits_with_the_tokenizer_the_registry_names():
    """A language's `tokenizer` in data/languages.yml is what splits the runs of its script."""
    from bot.core import language
    from bot.rasa import components

    registry = language.registry()
    assert {lang.tokenizer for lang in registry.languages} <= {"spacy", *components.SEGMENTERS}
    (written_by_jieba,) = [lang for lang in registry.languages if lang.tokenizer == "jieba"]
    assert components.SEGMENTERS["jieba"] is components.chinese.segment
    assert registry.script_language("注销账号") == written_by_jieba
    assert registry.script_language("delete my account") is None
