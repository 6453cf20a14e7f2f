"""The saved spaCy pipeline finds every request reference a visitor may type, as one entity.

Loaded from disk as Rasa loads it: the tokenizer's rules are saved as patterns and compiled
again, so what holds for the built pipeline must hold for the loaded one.
"""

from pathlib import Path

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.language import Language

from bot.core.reference_shape import CODE_LENGTH, REFERENCE_ALPHABET
from bot.rasa.spacy_pipeline import REFERENCE_PREFIXES, save_pipeline

SENTENCES = (
    "what is the status of {}?",
    "{}",
    "my reference is {}.",
    "({})",
    "status of {} please",
    "is {} done yet?!",
    "我不想要了，请撤回申请{}",  # written against Chinese, no space
    "申请{}的进度如何？",
)


@pytest.fixture(scope="module")
def nlp(tmp_path_factory: pytest.TempPathFactory) -> Language:
    path: Path = save_pipeline(tmp_path_factory.mktemp("pipeline") / "en_privacy")
    return spacy.load(path)


def references(nlp: Language, text: str) -> list:
    return [e.text for e in nlp(text).ents if e.label_ == "reference"]


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(REFERENCE_PREFIXES),
    code=st.text(alphabet=REFERENCE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH),
    sentence=st.sampled_from(SENTENCES),
    lower=st.booleans(),
)
def test_every_reference_is_one_entity_whatever_its_last_characters(
    nlp, prefix, code, sentence, lower
):
    reference = f"{prefix}-{code}"
    typed = reference.lower() if lower else reference
    assert references(nlp, sentence.format(typed)) == [typed]


@pytest.mark.parametrize("reference", ["DEL-6C8F4M", "COR-ABC4KB", "SUS-22334G", "ACC-99999T"])
def test_codes_ending_like_a_unit_of_measure_are_not_cut(nlp, reference):
    # The English suffix rules read 4M, 4KB, 4G, 9T as a number and a unit.
    assert references(nlp, f"what is the status of {reference}?") == [reference]


def test_a_reference_typed_with_spaces_round_the_dash_is_found(nlp):
    assert references(nlp, "it is del - 6c8f4m") == ["del - 6c8f4m"]


def test_ordinary_words_numbers_and_units_tokenise_as_before(nlp):
    assert [t.text for t in nlp("it's 10km away, master.")] == [
        "it",
        "'s",
        "10",
        "km",
        "away",
        ",",
        "master",
        ".",
    ]
    assert references(nlp, "delete my account please") == []


def test_emails_are_still_found_beside_a_reference(nlp):
    doc = nlp("DEL-6C8F4M for wang.li@example.com")
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("DEL-6C8F4M", "reference"),
        ("wang.li@example.com", "email"),
    ]
