"""The multilingual encoder: English and Chinese in one space, and only the pinned weights."""

import shutil

import numpy as np
import pytest

from bot.nlu import multilingual
from bot.nlu.encoder import EncoderUnavailable
from bot.nlu.multilingual import MultilingualEncoder, load_multilingual, resources_dir

ENCODER = load_multilingual()


def test_a_chinese_question_lands_beside_its_english_meaning():
    english = ENCODER.encode(
        [
            "Please delete my account.",
            "Do you sell my data to others?",
            "Where is my information stored?",
        ]
    )
    chinese = ENCODER.encode(["请删除我的账户", "你们会把我的数据卖给别人吗", "我的信息存放在哪里"])
    similarity = chinese @ english.T
    # Each Chinese question is nearest to its own English meaning, and clearly so.
    assert list(similarity.argmax(axis=1)) == [0, 1, 2]
    for row, best in enumerate(similarity.argmax(axis=1)):
        others = np.delete(similarity[row], best)
        assert similarity[row, best] - others.max() > 0.1


def test_vectors_are_unit_length_and_the_same_alone_or_in_a_batch():
    texts = ["注销账号", "a much longer sentence about where my personal data is kept abroad", "好"]
    batch = ENCODER.encode(texts)
    assert batch.shape == (3, multilingual.DIMENSION)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    for text, vector in zip(texts, batch, strict=True):
        assert np.allclose(ENCODER.encode([text])[0], vector, atol=1e-5)
    assert ENCODER.encode([]).shape == (0, multilingual.DIMENSION)
    rows = ENCODER.encode_rows(texts)
    assert len(rows) == 3 and np.allclose(np.stack(rows), batch)


def test_files_that_are_not_the_pinned_ones_are_refused(tmp_path):
    shutil.copy(resources_dir() / "sp.model", tmp_path / "sp.model")
    (tmp_path / "weights.npz").write_bytes(b"not the model")
    with pytest.raises(EncoderUnavailable, match="Refusing to run"):
        MultilingualEncoder(tmp_path)


def test_missing_files_and_a_missing_package_say_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(EncoderUnavailable, match="No weights.npz"):
        MultilingualEncoder(tmp_path)
    monkeypatch.setattr(multilingual.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EncoderUnavailable, match="make install"):
        resources_dir()
