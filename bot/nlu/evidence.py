"""What the sentence encoder says about a question, in a form the action server can use.

The encoder runs once per message, inside Rasa (`bot.rasa.components`). Besides the features the
intent classifier reads, it leaves this evidence in the parse data: how close the question is to
every sentence of the policy (to choose what to quote), and, for a question that asks two things
("who do you share my data with and where is it kept?"), the intent of each part. The action
server then needs no model of its own, and nothing is encoded twice.

The English encoder knows no Chinese. For a message in a language matched by characters (Chinese)
the scores are the cosine similarity of character n-gram vectors (`bot.nlu.chinese.NgramSpace`)
between the question and the language's reference translation of each policy sentence
(`bot.policy.translation`), in the same order and under the same digest as the English scores, so
the action server reads both the same way. The parts of a two-part question, in either language,
are read by one classifier over the sentence vectors (the multilingual encoder's, and the English
encoder's for English). The thresholds the router applies are calibrated per language
(`thresholds(language)`), since the two kinds of score live on different scales.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import yaml

from bot.core.language import DEFAULT, has_han, registry
from bot.core.lexicon import lexicon
from bot.core.paths import DATA_DIR
from bot.nlu import chinese
from bot.nlu.linear import LinearModel
from bot.nlu.linear import fit as fit_linear
from bot.policy.answers import candidates
from bot.policy.document import Policy
from bot.policy.translation import TRANSLATED_LANGUAGES, load_translation

EVIDENCE_KEY = "policy_evidence"
SCORE_DECIMALS = 3
MIN_PART_WORDS = 3
# A second question starts with a question word after "and", "also", ";" or "?": "who do you share
# my data with and where is it kept". "stored or sold" stays one question.
_QUESTION_START = (
    r"(?:(?:in|for|to|with|from|at|on|by|under)\s+)?"  # "in which country ..."
    r"(?:who|whom|what|where|when|why|how|which|whose|do|does|did|is|are|was|were|"
    r"can|could|will|would|should|shall|may|might|have|has)\b"
)
_SPLIT = re.compile(
    r"(?:\?\s*|;\s*|,?\s+(?:and|also|and also|plus|as well as)\s+|\.\s+)"
    r"(?=" + _QUESTION_START + ")",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class IndexedSentence:
    section_id: str
    index: int  # position among `answers.candidates(policy, section)`
    text: str


@functools.lru_cache(maxsize=4)
def policy_sentences(policy: Policy) -> Tuple[IndexedSentence, ...]:
    """Every sentence an answer may quote, in one fixed order that both servers agree on."""
    out = []
    for section in policy.sections:
        for index, sentence in enumerate(candidates(policy, section)):
            out.append(IndexedSentence(section.id, index, sentence.text))
    return tuple(out)


def digest(sentences: Sequence[IndexedSentence]) -> str:
    """A short fingerprint of the sentence list: scores made for another text are not used."""
    joined = "\n".join(f"{s.section_id}:{s.text}" for s in sentences)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:12]


def split_clauses(text: str) -> List[str]:
    """The separate questions in a message; one element when it asks one thing. Chinese (any
    Han character) is split by `bot.nlu.chinese.split_clauses`."""
    if has_han(text):
        return chinese.split_clauses(text)
    parts = [p.strip(" ,.;?!") for p in _SPLIT.split(text.strip())]
    parts = [p for p in parts if p]
    if len(parts) < 2 or any(len(p.split()) < MIN_PART_WORDS for p in parts):
        return [text.strip()]
    return parts


# A later clause that points back with a pronoun ("… and who can see it?") says nothing of its
# own about what it asks: read alone, "who can see it" is a follow-up request for more. Read with
# the thing it points back to, it is a question about sharing. On a privacy assistant that thing
# is nearly always the visitor's data; where the clause before speaks only of the policy, the
# policy. Measured with `python -m bot parts` (README, "Two-part questions").
# Not the "it" that points at nothing ("is it possible …", "how long does it take"), nor "them",
# which points at people as often (kids, partner companies) as at data.
_POINTS_BACK = re.compile(
    r"\b(?:it(?!\s+(?:is\s+)?(?:possible|true|ok|okay|legal|necessary|mandatory|required"
    r"|allowed|fine|normal|safe\s+to|too\s+late|takes?|matters?|costs?)\b))\b",
    re.IGNORECASE,
)
_POLICY_WORDS = re.compile(r"\b(polic(y|ies)|notice|terms|statement)\b", re.IGNORECASE)
_DATA_WORDS = re.compile(
    r"\b(data|info\w*|details?|number|e-?mail|address|records?)\b", re.IGNORECASE
)
DATA_ANTECEDENT = "my personal information"
POLICY_ANTECEDENT = "the privacy policy"


def as_read(clauses: Sequence[str]) -> List[str]:
    """The clauses as the part classifier reads them: each English clause after the first with a
    pronoun pointing back replaced by what it points back to (Chinese clauses unchanged: the
    subject is left out rather than pointed back to)."""
    out = list(clauses[:1])
    for before, clause in zip(clauses[:-1], clauses[1:], strict=True):
        if has_han(clause) or not _POINTS_BACK.search(clause):
            out.append(clause)
            continue
        about_policy = _POLICY_WORDS.search(before) and not _DATA_WORDS.search(before)
        out.append(_POINTS_BACK.sub(POLICY_ANTECEDENT if about_policy else DATA_ANTECEDENT, clause))
    return out


@dataclass(frozen=True)
class Part:
    """One question of several in a message, as the encoder's own small classifier reads it."""

    text: str
    intent: str
    confidence: float
    scores: Tuple[float, ...] = ()


@dataclass(frozen=True)
class Evidence:
    digest: str
    scores: Tuple[float, ...]  # cosine similarity to each of `policy_sentences`, in that order
    parts: Tuple[Part, ...] = ()
    # How likely the policy is silent on the question (`bot.nlu.silence`); None without a model.
    silence: Optional[float] = None

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"digest": self.digest, "scores": list(self.scores)}
        if self.silence is not None:
            data["silence"] = self.silence
        if self.parts:
            data["parts"] = [
                {
                    "text": p.text,
                    "intent": p.intent,
                    "confidence": p.confidence,
                    "scores": list(p.scores),
                }
                for p in self.parts
            ]
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Optional[Evidence]:
        """None for anything that is not evidence (an older model, a button payload)."""
        if not isinstance(data, dict) or not isinstance(data.get("scores"), list):
            return None
        try:
            parts = tuple(
                Part(
                    str(p["text"]),
                    str(p["intent"]),
                    float(p["confidence"]),
                    tuple(float(x) for x in p.get("scores") or ()),
                )
                for p in data.get("parts") or ()
            )
            found = data.get("silence")
            return cls(
                str(data.get("digest", "")),
                tuple(float(x) for x in data["scores"]),
                parts,
                None if found is None else float(found),
            )
        except (KeyError, TypeError, ValueError):
            return None


def rounded(values: np.ndarray) -> Tuple[float, ...]:
    return tuple(round(float(v), SCORE_DECIMALS) for v in values)


# What the part classifier reads of a clause: the same two sentence vectors the intent
# classifier reads of a whole message, each scaled alike (English's encoder gives a Chinese clause
# no block, as it gives a Chinese message a zero vector). Measured against one encoder alone and
# against character n-grams for Chinese parts: `python -m bot parts` (README, "Two-part questions").
ENGLISH_BLOCK = "sentence"
MULTILINGUAL_BLOCK = "multilingual"


def part_features(
    english: Optional[np.ndarray], multilingual: Optional[np.ndarray], scale: float
) -> Dict[str, np.ndarray]:
    """The part classifier's feature blocks for one text, from its unit vectors (None: none)."""
    features: Dict[str, np.ndarray] = {}
    if english is not None:
        features[ENGLISH_BLOCK] = np.asarray(english)[None, :] * scale
    if multilingual is not None:
        features[MULTILINGUAL_BLOCK] = np.asarray(multilingual)[None, :] * scale
    return features


def fit_part_classifier(
    features: Sequence[Mapping[str, np.ndarray]], labels: Sequence[str]
) -> LinearModel:
    """A softmax over sentence vectors, fitted at training on every example of both languages:
    reads each part of a two-part question without the sparse features that only exist for the
    whole message."""
    return fit_linear(features, labels, max_iter=2000)


def read_part(model: LinearModel, features: Mapping[str, np.ndarray]) -> Tuple[str, float]:
    return model.ranking(features)[0]


def reads(model: LinearModel, block: str) -> bool:
    """Whether the part classifier was fitted with that block (a pipeline may lack an encoder)."""
    return any(name == block for name, _ in model.blocks)


@dataclass(frozen=True)
class Clause:
    """One part of a two-part question, ready to be read: its features and its similarity to
    every policy sentence (on the message's language's scale)."""

    text: str
    features: Mapping[str, np.ndarray]
    scores: np.ndarray


def gather(
    scores: np.ndarray,
    policy_digest: str,
    clauses: Sequence[Clause] = (),
    part_classifier: Optional[LinearModel] = None,
    silence: Optional[float] = None,
) -> Evidence:
    """The evidence for one message, from its similarity to every policy sentence, for a
    two-part question its clauses, and how likely the policy is silent on it."""
    found: List[Part] = []
    if len(clauses) >= 2 and part_classifier is not None:
        for clause in clauses:
            intent, confidence = read_part(part_classifier, clause.features)
            found.append(
                Part(clause.text, intent, round(confidence, SCORE_DECIMALS), rounded(clause.scores))
            )
    return Evidence(
        policy_digest,
        rounded(scores),
        tuple(found),
        None if silence is None else round(float(silence), SCORE_DECIMALS),
    )


def by_section(
    policy: Policy, scores: Sequence[float], evidence_digest: str
) -> Optional[Dict[str, List[float]]]:
    """Scores in `policy_sentences` order, regrouped per section; None when they were made for
    another version of the text (then the answer falls back to shared words)."""
    sentences = policy_sentences(policy)
    if len(scores) != len(sentences) or evidence_digest != digest(sentences):
        return None
    out: Dict[str, List[float]] = {}
    for sentence, score in zip(sentences, scores, strict=True):
        out.setdefault(sentence.section_id, []).append(float(score))
    return out


# ------------------------------------------------------------------ evidence by translation


def ngram_languages() -> Tuple[str, ...]:
    """The languages whose evidence is character n-grams against their reference translation:
    those matched by characters (no encoder of ours reads them) that have a translation."""
    return tuple(
        language.code
        for language in registry().languages
        if language.by_characters and language.code in TRANSLATED_LANGUAGES
    )


def translated_texts(sentences: Sequence[IndexedSentence], language: str) -> List[str]:
    """The reference translation into `language` of each of `sentences`, in their order (matched
    by section and English text); a sentence without one keeps its English, so its n-grams still
    count (names, "Cookie", "Weidijia"). The effective date line is the only one the translation
    cannot have: it is read with the language's name for it (lexicon `evidence.effective_date`)."""
    translation = load_translation(language)
    label = " ".join(lexicon(language).words("evidence.effective_date"))
    out = []
    for sentence in sentences:
        found = translation.sentence(sentence.section_id, sentence.text)
        if found is None and label and sentence.text.startswith("Effective date:"):
            found = f"{label} {sentence.text}"
        out.append(found or sentence.text)
    return out


def translation_space(sentences: Sequence[IndexedSentence], language: str) -> chinese.NgramSpace:
    """Character n-gram vectors of the policy sentences translated into `language`, in
    `sentences` order."""
    return chinese.NgramSpace.fit(translated_texts(sentences, language))


def translation_spaces(sentences: Sequence[IndexedSentence]) -> Dict[str, chinese.NgramSpace]:
    """Language -> its `translation_space`, for every one of `ngram_languages`."""
    return {language: translation_space(sentences, language) for language in ngram_languages()}


# ------------------------------------------------------------------ calibrated thresholds

CALIBRATION_FILE = DATA_DIR / "calibration" / "thresholds.yml"


@functools.lru_cache(maxsize=8)
def _calibration(path: Path) -> Dict[str, Any]:
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def thresholds(language: Optional[str] = None, path: Path = CALIBRATION_FILE) -> Dict[str, float]:
    """The router's calibrated thresholds for a language (None: the default), read once per
    process.

    data/calibration/thresholds.yml holds the default language at the top (`thresholds:`) and
    each other language in a block of its own under its code (`{thresholds: ..., fitted: ...}`). A
    key a language's block lacks is the default's, except `evidence`, whose scale differs by
    language (the encoder's cosine, character n-gram cosine for an `ngram_languages` one):
    without a calibrated value of its own there is no evidence floor (0.0). A language with
    neither a block nor a scale of its own (or none registered) reads as the default."""
    data = _calibration(path)
    default = {k: float(v) for k, v in (data.get("thresholds") or {}).items()}
    if language in (None, DEFAULT):
        return default
    block = data.get(str(language)) or {}
    own = {k: float(v) for k, v in (block.get("thresholds") or {}).items()}
    if not block and language not in ngram_languages():
        return default
    merged = {**default, "evidence": 0.0}
    merged.update(own)
    return merged
