"""Builds the project's own spaCy pipeline, since no pretrained one can be downloaded here.

A blank English pipeline gives Rasa tokens; the lookup lemmatizer (tables from
`spacy-lookups-data`, bundled into the saved pipeline) lets `CountVectorsFeaturizer` see
"deleting" and "deleted" as one word; the entity ruler marks e-mail addresses, phone numbers
and request reference codes so `SpacyEntityExtractor` can hand them to forms.

Chinese is written without spaces, so the tokenizer also splits at every run of Han characters
and at Chinese punctuation: "我的邮箱是wang@x.com。谢谢" gives `我的邮箱是`, `wang@x.com`, `。`,
`谢谢`, and the entity ruler finds the address (one token of the whole sentence before). English
is tokenized as before (the added patterns match only Han and Chinese punctuation). Splitting a
Han run into words is the Rasa tokenizer's work (`bot.rasa.components.HanSegmentingTokenizer`).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any, Dict, List, cast

import spacy
from spacy.lang.char_classes import UNITS
from spacy.language import Language
from spacy.pipeline import EntityRuler
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

from bot.core.paths import SPACY_PIPELINE
from bot.requests.references import PREFIXES, REFERENCE_ALPHABET

PIPELINE_NAME = "en_privacy"
PIPELINE_VERSION = "1.3.0"

REFERENCE_PREFIXES = tuple(PREFIXES.values())
_REFERENCE_TOKEN = f"(?i)^(?:{'|'.join(REFERENCE_PREFIXES)})-[{REFERENCE_ALPHABET}]{{6}}$"
_REFERENCE_TAIL = f"(?i)^[{REFERENCE_ALPHABET}]{{6}}$"
# A bare code is kept whole only when it holds a digit, so six-letter words tokenise as before.
_WHOLE_REFERENCE = re.compile(
    f"(?i)^(?:(?:{'|'.join(REFERENCE_PREFIXES)})-[{REFERENCE_ALPHABET}]{{6}}"
    f"|(?=[A-Z]*[0-9])[{REFERENCE_ALPHABET}]{{6}})$"
)


# English's rule that cuts a unit off a number ("10km"), as spaCy writes it; and the same rule
# kept off the end of a reference's six characters: a unit of 1 to 3 characters there follows
# "-" and 5 to 3 of them. token_match alone does not keep such a code whole once a Han run is
# glued before it ("撤回申请SUS-A02V8K"): the tokenizer cuts that prefix and the "unit" in
# one step, before it asks token_match again.
UNIT_SUFFIX = rf"(?<=[0-9])(?:{UNITS})"
GUARDED_UNIT_SUFFIX = r"(?<!-[A-Za-z0-9]{5})(?<!-[A-Za-z0-9]{4})(?<!-[A-Za-z0-9]{3})" + UNIT_SUFFIX

HAN_RUN = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
# Chinese punctuation that survives width folding (bot.core.language.to_half_width).
CHINESE_PUNCTUATION = "[。、，；：？！“”‘’（）《》〈〉【】「」『』…—～·]"


def set_tokenizer_rules(nlp: Language) -> None:
    """Han runs and Chinese punctuation become tokens of their own, wherever they are, and
    reference-shaped strings stay one token whatever the English prefix and suffix rules say.

    Without the second, English suffix rules cut a unit off a code that ends in a digit and a
    letter (`DEL-6C8F4M` -> `DEL-6C8F4`, `M`; `COR-ABC4KB` in four) and read the full stop after
    `DEL-00000A.` as part of an abbreviation, and the entity ruler then finds no reference.
    token_match is a bound `re.Pattern.match`, not a closure: spaCy saves it as its pattern and
    compiles it again on load. Blank English has no token_match of its own to combine with."""
    chinese: List[Any] = [HAN_RUN, CHINESE_PUNCTUATION]
    either_case = REFERENCE_ALPHABET + REFERENCE_ALPHABET.lower()
    after_code = rf"(?<=-[{either_case}]{{6}})[.,;:!?]"
    defaults = nlp.Defaults
    tokenizer: Any = nlp.tokenizer  # spacy.tokenizer.Tokenizer (Cython, no stubs)
    if tokenizer.token_match is not None:
        raise RuntimeError("the blank English tokenizer now has a token_match; combine the two")
    tokenizer.prefix_search = compile_prefix_regex(list(defaults.prefixes or []) + chinese).search
    suffixes = list(defaults.suffixes or [])
    if UNIT_SUFFIX not in suffixes:
        raise RuntimeError("spaCy's English unit suffix rule changed; guard the new one")
    suffixes[suffixes.index(UNIT_SUFFIX)] = GUARDED_UNIT_SUFFIX
    tokenizer.suffix_search = compile_suffix_regex(suffixes + chinese + [after_code]).search
    tokenizer.infix_finditer = compile_infix_regex(list(defaults.infixes or []) + chinese).finditer
    tokenizer.token_match = _WHOLE_REFERENCE.match


def entity_patterns() -> List[Dict]:
    """Patterns for the entity ruler; kept as data so tests can check them one by one."""
    digits = {"TEXT": {"REGEX": r"^\(?\+?\d{1,4}\)?$"}}
    group = {"TEXT": {"REGEX": r"^\d{2,5}$"}}
    return [
        {"label": "email", "pattern": [{"LIKE_EMAIL": True}]},
        # One token: +8613800138000, 13800138000, 010-62345678, +1-202-555-0143
        {"label": "phone", "pattern": [{"TEXT": {"REGEX": r"^\+?\d[\d-]{6,18}\d$"}}]},
        # Grouped: +86 138 0013 8000, (010) 6234 5678, 202 555 0143
        {"label": "phone", "pattern": [digits, group, group, {"TEXT": {"REGEX": r"^\d{3,5}$"}}]},
        {"label": "phone", "pattern": [digits, group, {"TEXT": {"REGEX": r"^\d{4,5}$"}}]},
        # Split by the tokenizer: 010 - 62345678, (010) 6234 5678
        {"label": "phone", "pattern": [digits, {"TEXT": "-"}, {"TEXT": {"REGEX": r"^\d{6,8}$"}}]},
        {"label": "phone", "pattern": [{"TEXT": "("}, group, {"TEXT": ")"}, group, group]},
        # Dashed mobile numbers: 138-0013-8000
        {
            "label": "phone",
            "pattern": [
                {"TEXT": {"REGEX": r"^\d{3,4}$"}},
                {"TEXT": "-"},
                {"TEXT": {"REGEX": r"^\d{3,4}$"}},
                {"TEXT": "-"},
                {"TEXT": {"REGEX": r"^\d{4}$"}},
            ],
        },
        {"label": "reference", "pattern": [{"TEXT": {"REGEX": _REFERENCE_TOKEN}}]},
        {
            "label": "reference",
            "pattern": [
                {"LOWER": {"IN": [p.lower() for p in REFERENCE_PREFIXES]}},
                {"TEXT": "-"},
                {"TEXT": {"REGEX": _REFERENCE_TAIL}},
            ],
        },
    ]


def build_pipeline() -> Language:
    nlp = spacy.blank("en")
    set_tokenizer_rules(nlp)
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = cast(EntityRuler, nlp.add_pipe("entity_ruler", config={"overwrite_ents": True}))
    nlp.initialize()  # loads the lookup tables from spacy-lookups-data into the pipeline
    ruler.add_patterns(entity_patterns())
    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = PIPELINE_VERSION
    nlp.meta["description"] = (
        "Blank English + lookup lemmatizer + entity ruler "
        "(email, phone, reference); Han runs and Chinese punctuation split"
    )
    return nlp


def save_pipeline(target: Path = SPACY_PIPELINE) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    build_pipeline().to_disk(target)
    return target


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=SPACY_PIPELINE)
    args = parser.parse_args(argv)
    path = save_pipeline(args.output)
    print(f"spaCy pipeline saved to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
