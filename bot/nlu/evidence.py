"""What the sentence encoder says about a question, in a form the action server can use.

The encoder runs once per message, inside Rasa (`bot.rasa.components`). Besides the features the
intent classifier reads, it leaves this evidence in the parse data: how close the question is to
every sentence of the policy (to choose what to quote), and, for a question that asks two things
("who do you share my data with and where is it kept?"), the intent of each part. The action
server then needs no model of its own, and nothing is encoded twice.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from bot.nlu.linear import LinearModel
from bot.nlu.linear import fit as fit_linear
from bot.policy.answers import candidates
from bot.policy.document import Policy

EVIDENCE_KEY = "policy_evidence"
SCORE_DECIMALS = 3
MIN_PART_WORDS = 3
# A second question starts with a question word after "and", "also", ";" or "?": "who do you share
# my data with and where is it kept". "stored or sold" stays one question.
_QUESTION_START = (r"(?:(?:in|for|to|with|from|at|on|by|under)\s+)?"  # "in which country ..."
                   r"(?:who|whom|what|where|when|why|how|which|whose|do|does|did|is|are|was|were|"
                   r"can|could|will|would|should|shall|may|might|have|has)\b")
_SPLIT = re.compile(
    r"(?:\?\s*|;\s*|,?\s+(?:and|also|and also|plus|as well as)\s+|\.\s+)"
    r"(?=" + _QUESTION_START + ")",
    re.IGNORECASE)


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
    """The separate questions in a message; one element when it asks one thing."""
    parts = [p.strip(" ,.;?!") for p in _SPLIT.split(text.strip())]
    parts = [p for p in parts if p]
    if len(parts) < 2 or any(len(p.split()) < MIN_PART_WORDS for p in parts):
        return [text.strip()]
    return parts


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

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"digest": self.digest, "scores": list(self.scores)}
        if self.parts:
            data["parts"] = [{"text": p.text, "intent": p.intent, "confidence": p.confidence,
                              "scores": list(p.scores)} for p in self.parts]
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Optional[Evidence]:
        """None for anything that is not evidence (an older model, a button payload)."""
        if not isinstance(data, dict) or not isinstance(data.get("scores"), list):
            return None
        try:
            parts = tuple(Part(str(p["text"]), str(p["intent"]), float(p["confidence"]),
                               tuple(float(x) for x in p.get("scores") or ()))
                          for p in data.get("parts") or ())
            return cls(str(data.get("digest", "")), tuple(float(x) for x in data["scores"]), parts)
        except (KeyError, TypeError, ValueError):
            return None


def rounded(values: np.ndarray) -> Tuple[float, ...]:
    return tuple(round(float(v), SCORE_DECIMALS) for v in values)


PART_BLOCK = "sentence"  # the part classifier reads one feature block: the sentence vector


def fit_part_classifier(vectors: np.ndarray, labels: Sequence[str]) -> LinearModel:
    """A softmax over sentence vectors, fitted at training: reads each part of a two-part
    question without the sparse features that only exist for the whole message."""
    return fit_linear([{PART_BLOCK: v[None, :]} for v in vectors], labels, max_iter=2000)


def read_part(model: LinearModel, vector: np.ndarray) -> Tuple[str, float]:
    return model.ranking({PART_BLOCK: vector})[0]


def gather(sentence_vector: np.ndarray, policy_vectors: np.ndarray, policy_digest: str,
           parts: Sequence[Tuple[str, np.ndarray]] = (),
           part_classifier: Optional[LinearModel] = None) -> Evidence:
    """The evidence for one message, from vectors already computed."""
    scores = rounded(policy_vectors @ sentence_vector)
    found: List[Part] = []
    if len(parts) >= 2 and part_classifier is not None:
        for text, vector in parts:
            intent, confidence = read_part(part_classifier, vector)
            found.append(Part(text, intent, round(confidence, SCORE_DECIMALS),
                              rounded(policy_vectors @ vector)))
    return Evidence(policy_digest, scores, tuple(found))


def by_section(policy: Policy, scores: Sequence[float],
               evidence_digest: str) -> Optional[Dict[str, List[float]]]:
    """Scores in `policy_sentences` order, regrouped per section; None when they were made for
    another version of the text (then the answer falls back to shared words)."""
    sentences = policy_sentences(policy)
    if len(scores) != len(sentences) or evidence_digest != digest(sentences):
        return None
    out: Dict[str, List[float]] = {}
    for sentence, score in zip(sentences, scores, strict=True):
        out.setdefault(sentence.section_id, []).append(float(score))
    return out
