"""The numpy encoder is all-MiniLM-L6-v2: the model card's figures, and no other weights."""

import shutil

import numpy as np
import pytest

from bot.nlu import encoder as encoder_module
from bot.nlu.encoder import EncoderUnavailable, SentenceEncoder, load_encoder, model_dir

ENCODER = load_encoder()


def test_the_reference_similarities_of_the_sentence_transformers_documentation():
    vectors = ENCODER.encode(
        ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    )
    similarity = vectors @ vectors.T
    assert round(float(similarity[0, 1]), 3) == 0.666
    assert round(float(similarity[0, 2]), 3) == 0.105
    assert round(float(similarity[1, 2]), 3) == 0.141


def test_vectors_are_unit_length_and_the_same_alone_or_in_a_padded_batch():
    texts = ["short", "a much longer sentence about where my personal data is kept abroad"]
    batch = ENCODER.encode(texts, batch_size=2)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    for text, vector in zip(texts, batch, strict=True):
        assert np.allclose(ENCODER.encode_one(text), vector, atol=1e-5)
    assert ENCODER.encode([]).shape == (0, 384)


def test_token_vectors_line_up_with_the_characters_they_came_from():
    [encoded] = ENCODER.encode_detailed(["who keeps my data"])
    assert encoded.tokens.shape == (len(encoded.spans), 384)
    assert encoded.spans[0] == (0, 0) and encoded.spans[-1] == (0, 0)  # [CLS] and [SEP]
    keeps = encoded.pooled_over(4, 9)
    assert keeps is not None and keeps.shape == (384,)
    assert encoded.pooled_over(100, 200) is None


def test_weights_that_are_not_the_pinned_ones_are_refused(tmp_path):
    fake = tmp_path / "model"
    fake.mkdir()
    shutil.copy(model_dir() / "tokenizer.json", fake / "tokenizer.json")
    (fake / "model.safetensors").write_bytes(b"not the model")
    with pytest.raises(EncoderUnavailable, match="Refusing to run"):
        SentenceEncoder(fake)


def test_missing_weights_and_a_missing_package_say_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(EncoderUnavailable, match="No model weights"):
        SentenceEncoder(tmp_path)
    monkeypatch.setattr(encoder_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EncoderUnavailable, match="make install"):
        model_dir()
