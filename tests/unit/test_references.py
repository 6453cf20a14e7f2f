"""Request references: `DEL-7K3M9Q`, a type prefix, a dash and six unambiguous characters."""

import re
from collections import Counter

import pytest

from bot.requests.references import (
    CODE_LENGTH,
    PREFIXES,
    REFERENCE_ALPHABET,
    kind_of,
    new_reference,
    normalise_reference,
)
from bot.requests.registry import NAMES as KINDS

# The prefixes of the references already handed out: they never change.
ISSUED = {
    "deletion": "DEL",
    "correction": "COR",
    "suspension": "SUS",
    "access": "ACC",
    "unsubscribe": "UNS",
}


def test_alphabet_is_digits_and_letters_without_read_alikes():
    assert len(REFERENCE_ALPHABET) == len(set(REFERENCE_ALPHABET)) == 32
    assert set(REFERENCE_ALPHABET) == set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") - set("ILOU")


def test_every_request_kind_has_its_own_three_letter_prefix():
    assert set(PREFIXES) == set(KINDS)
    assert len(set(PREFIXES.values())) == len(KINDS)
    assert all(re.fullmatch(r"[A-Z]{3}", p) for p in PREFIXES.values())
    assert ISSUED.items() <= PREFIXES.items()


@pytest.mark.parametrize("kind", KINDS)
def test_new_reference_format(kind):
    for _ in range(50):
        reference = new_reference(kind)
        prefix, dash, code = reference[:3], reference[3], reference[4:]
        assert prefix == PREFIXES[kind]
        assert dash == "-"
        assert len(code) == CODE_LENGTH == 6
        assert set(code) <= set(REFERENCE_ALPHABET)
        assert not set(code) & set("ILOU")


@pytest.mark.parametrize("kind", KINDS)
def test_new_reference_round_trips(kind):
    reference = new_reference(kind)
    assert normalise_reference(reference) == reference
    assert normalise_reference(reference.lower()) == reference
    assert kind_of(reference) == kind


def test_new_reference_unknown_kind_raises():
    with pytest.raises(KeyError):
        new_reference("objection")


def test_references_are_random_not_sequential():
    references = [new_reference("deletion") for _ in range(2000)]
    # 32**6 ~ 10**9 codes: a collision among 2,000 has a probability of about 0.2 %.
    assert len(set(references)) >= 1998
    characters = Counter("".join(r[4:] for r in references))
    # 12,000 characters, ~375 of each: every character is used, none dominates.
    assert set(characters) == set(REFERENCE_ALPHABET)
    assert max(characters.values()) < 600
    # The leading code character varies too: a counter would keep it fixed for a long time.
    assert len({r[4] for r in references[:100]}) > 10


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("DEL-7K3M9Q", "DEL-7K3M9Q"),
        ("del-7k3m9q", "DEL-7K3M9Q"),
        ("del 7k3m9q", "DEL-7K3M9Q"),
        ("DEL7K3M9Q", "DEL-7K3M9Q"),
        ("  cor - 7k3m9q  ", "COR-7K3M9Q"),
        ("SUS_7K3M9Q", "SUS-7K3M9Q"),
        ("ACC\u20137K3M9Q", "ACC-7K3M9Q"),  # en dash
        ("UNS\u20147K3M9Q", "UNS-7K3M9Q"),  # em dash
        ("DEL-7K 3M 9Q", "DEL-7K3M9Q"),
        ("DEL-OOOOOO", "DEL-000000"),
        ("del-i1l1oo", "DEL-111100"),
        ("DEL-UUUUUU", "DEL-VVVVVV"),
    ],
)
def test_normalise_reference_variants(text, canonical):
    assert normalise_reference(text) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "",
        "DEL",
        "DEL-7K3M9",
        "DEL-7K3M9QQ",
        "XYZ-7K3M9Q",
        "DE-7K3M9QA",
        "DEL-7K3M9!",
        "DEL-7K3.9Q",
        "DEL/7K3M9Q",
        "reference DEL-7K3M9Q",
        "D1L-7K3M9Q",
    ],
)
def test_normalise_reference_rejects(text):
    assert normalise_reference(text) is None


def test_read_alikes_are_only_translated_in_the_code_not_the_prefix():
    # "UNS" keeps its U; "0EL" is not read as "DEL" or "OEL".
    assert normalise_reference("uns-uuuuuu") == "UNS-VVVVVV"
    assert normalise_reference("0EL-7K3M9Q") is None


@pytest.mark.parametrize("kind", KINDS)
def test_kind_of(kind):
    assert kind_of(f"{PREFIXES[kind]}-7K3M9Q") == kind


def test_kind_of_an_unknown_prefix_is_a_value_error():
    with pytest.raises(ValueError):
        kind_of("XYZ-7K3M9Q")
