"""How well each kind of part classifier reads the parts of a two-part question.

    python -m bot parts [--scale 10] [--errors]

The part classifier (`bot.nlu.evidence`) reads each clause of "who gets my data and where is it
kept?" on its own, from sentence vectors: it has no n-gram counts of the whole message. Compared
here on our own examples (3-fold out of fold, per language) and on the two-part questions of
docs/pipelines/two_part_questions.yml (written for this, not the evaluation sets), fitted on all
our examples: how often a part is read right, and right at or above the router's part threshold;
how many questions get both parts so read; and how many parts are read as another section at or
above it (a wrong quote in waiting). Variants:

- `english`: all-MiniLM-L6-v2's vector, unscaled, English only (the classifier before 2026-12-05);
- `ngrams`: character n-grams, Chinese only (the Chinese one before 2026-12-05);
- `multilingual`: USE multilingual v3's vector x scale, one model for both languages;
- `both`: MiniLM (English clauses) and USE, each x scale, one model (what the pipeline fits).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import yaml

from bot.conversation.routing import SECTION_PREFIX
from bot.core.language import has_han, normalise
from bot.core.paths import ROOT
from bot.nlu import chinese, evidence
from bot.nlu.examples import load_examples
from bot.nlu.linear import LinearModel

QUESTIONS = ROOT / "docs" / "pipelines" / "two_part_questions.yml"
LANGUAGES = ("en", "zh")
FOLDS = 3
SEED = 7

Features = List[Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class TwoPart:
    text: str
    intents: Tuple[str, ...]  # the intent each part should be read as, in order


def load_questions() -> Dict[str, List[TwoPart]]:
    data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8")) or {}
    return {
        lang: [
            TwoPart(str(q["text"]), tuple(SECTION_PREFIX + s for s in q["sections"]))
            for q in data.get(lang) or ()
        ]
        for lang in LANGUAGES
    }


class Vectors:
    """Both encoders' unit vectors of every text asked for, each encoded once."""

    def __init__(self) -> None:
        from bot.nlu.encoder import load_encoder
        from bot.nlu.multilingual import load_multilingual

        self.english = load_encoder()
        self.multilingual = load_multilingual()
        self.kept: Dict[str, Tuple[Optional[np.ndarray], np.ndarray]] = {}

    def of(self, texts: Sequence[str]) -> List[Tuple[Optional[np.ndarray], np.ndarray]]:
        new = sorted({t for t in texts if t not in self.kept})
        if new:
            stand_ins = [evidence_text(t) for t in new]
            shared = self.multilingual.encode(stand_ins)
            latin = [i for i, t in enumerate(new) if not has_han(t)]
            own = self.english.encode([stand_ins[i] for i in latin])
            english: Dict[int, np.ndarray] = dict(zip(latin, own, strict=True))
            for i, text in enumerate(new):
                self.kept[text] = (english.get(i), shared[i])
        return [self.kept[t] for t in texts]


def evidence_text(text: str) -> str:
    from bot.nlu.encoding_cache import encoder_text

    return encoder_text(text)


@dataclass(frozen=True)
class Variant:
    name: str
    languages: Tuple[str, ...]  # one model for these languages together
    features: Callable[[Vectors, Sequence[str], Sequence[str]], Features]  # (vectors, fit, read)


def _scaled(
    use_english: bool, use_multilingual: bool, scale: float
) -> Callable[[Vectors, Sequence[str], Sequence[str]], Features]:
    def features(vectors: Vectors, fitted: Sequence[str], texts: Sequence[str]) -> Features:
        return [
            evidence.part_features(
                own if use_english else None, shared if use_multilingual else None, scale
            )
            for own, shared in vectors.of(texts)
        ]

    return features


def _ngrams(vectors: Vectors, fitted: Sequence[str], texts: Sequence[str]) -> Features:
    space = chinese.NgramSpace.fit(list(fitted))
    return [{"ngrams": space.vector(t)[None, :]} for t in texts]


def variants(scale: float) -> List[Variant]:
    return [
        Variant("english", ("en",), _scaled(True, False, 1.0)),
        Variant("ngrams", ("zh",), _ngrams),
        Variant("multilingual", LANGUAGES, _scaled(False, True, scale)),
        Variant("both", LANGUAGES, _scaled(True, True, scale)),
    ]


def _folds(labels: Sequence[str]) -> List[np.ndarray]:
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    return [test for _, test in splitter.split(np.zeros(len(labels)), labels)]


def _fit(
    variant: Variant, vectors: Vectors, texts: Sequence[str], labels: Sequence[str]
) -> LinearModel:
    return evidence.fit_part_classifier(variant.features(vectors, texts, texts), labels)


def _read(
    variant: Variant,
    vectors: Vectors,
    model: LinearModel,
    fitted: Sequence[str],
    texts: Sequence[str],
) -> List[Tuple[str, float]]:
    return [evidence.read_part(model, f) for f in variant.features(vectors, fitted, texts)]


@dataclass
class Tally:
    out_of_fold: int = 0
    right: int = 0
    right_sure: int = 0
    parts: int = 0
    parts_right_sure: int = 0
    both: int = 0
    questions: int = 0
    wrong_sure: int = 0


def measure(
    variant: Variant,
    vectors: Vectors,
    examples: Sequence[Tuple[str, str]],
    questions: Mapping[str, Sequence[TwoPart]],
    errors: Optional[List[str]] = None,
) -> Dict[str, Tally]:
    """Out-of-fold and two-part figures of one variant, per language."""
    texts = [t for _, t in examples if any(_language(t) == lang for lang in variant.languages)]
    labels = [i for i, t in examples if any(_language(t) == lang for lang in variant.languages)]
    tallies = {lang: Tally() for lang in variant.languages}
    for test in _folds(labels):
        held = set(test.tolist())
        train = [i for i in range(len(texts)) if i not in held]
        fitted = [texts[i] for i in train]
        model = _fit(variant, vectors, fitted, [labels[i] for i in train])
        read = _read(variant, vectors, model, fitted, [texts[i] for i in test])
        for i, (intent, confidence) in zip(test, read, strict=True):
            lang = _language(texts[i])
            tally = tallies[lang]
            tally.out_of_fold += 1
            tally.right += intent == labels[i]
            tally.right_sure += intent == labels[i] and confidence >= _part(lang)
    model = _fit(variant, vectors, texts, labels)
    for lang in variant.languages:
        tally = tallies[lang]
        for question in questions.get(lang) or ():
            clauses = evidence.split_clauses(question.text)
            expected = question.intents
            read = _read(variant, vectors, model, texts, evidence.as_read(clauses))
            sure = [
                intent == want and confidence >= _part(lang)
                for (intent, confidence), want in zip(read, expected, strict=False)
            ]
            wrong = [
                intent != want and intent.startswith(SECTION_PREFIX) and confidence >= _part(lang)
                for (intent, confidence), want in zip(read, expected, strict=False)
            ]
            tally.questions += 1
            tally.parts += len(expected)
            tally.parts_right_sure += sum(sure)
            tally.both += len(clauses) == len(expected) and all(sure)
            tally.wrong_sure += sum(wrong)
            if errors is not None and not (len(clauses) == len(expected) and all(sure)):
                errors.append(
                    f"  {variant.name} {lang}: {question.text} -> "
                    + ", ".join(
                        f"{c}: {i} {p:.2f}" for c, (i, p) in zip(clauses, read, strict=True)
                    )
                )
    return tallies


def _language(text: str) -> str:
    return "zh" if has_han(text) else "en"


def _part(language: str) -> float:
    return evidence.thresholds(language)["part"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot parts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=10.0,
        help="the weight of the scaled variants' unit vectors (default 10)",
    )
    parser.add_argument(
        "--errors",
        action="store_true",
        help="list the two-part questions a variant does not read in full",
    )
    args = parser.parse_args(argv)
    examples = [(intent, normalise(text)) for intent, text in load_examples()]
    questions = load_questions()
    vectors = Vectors()
    errors: List[str] = []
    print(
        f"{'variant':13} lang  out-of-fold  right & >= part  | two-part: both read"
        "  parts read  parts wrong & >= part"
    )
    for variant in variants(args.scale):
        for lang, t in measure(
            variant, vectors, examples, questions, errors if args.errors else None
        ).items():
            print(
                f"{variant.name:13} {lang:4} {t.right / t.out_of_fold:11.3f} "
                f"{t.right_sure / t.out_of_fold:16.3f}  | {t.both:9d}/{t.questions:<9d}"
                f" {t.parts_right_sure:6d}/{t.parts:<5d} {t.wrong_sure:10d}"
            )
    print("\n".join(errors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
