"""When one question is a copy of another: the measure that keeps our training data and our own
labelled questions apart from the evaluation sets (tests/unit/test_training_data.py,
tests/unit/test_silence.py)."""

import re
import unicodedata
from pathlib import Path
from typing import List, Set

import yaml

from bot.core.language import normalise as normalise_script

# An entity annotation in Rasa's training format: [text]{"entity": ...} or [text](entity).
ANNOTATION = re.compile(r"\[([^\]]+)\](\{[^}]*\}|\([^)]*\))")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def plain(example: str) -> str:
    """The text a visitor would type: the example without its entity markup."""
    return ANNOTATION.sub(r"\1", example)


def normalise(text: str) -> str:
    return " ".join("".join(c for c in plain(text).lower() if c.isalnum() or c.isspace()).split())


def folded(text: str) -> str:
    """Width folded (NFKC: full-width letters, digits, punctuation), Simplified, lower case, letters
    and digits only: the form in which two questions that differ in punctuation, width or script
    look the same."""
    text = unicodedata.normalize("NFKC", normalise_script(plain(text))).lower()
    return "".join(c for c in text if c.isalnum())


def bigrams(text: str) -> Set[str]:
    chars = folded(text)
    return {chars[i : i + 2] for i in range(len(chars) - 1)} or {chars}


def jaccard(a: Set[str], b: Set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def contained(a: Set[str], b: Set[str]) -> float:
    """The share of the smaller set's bigrams found in the other: a question cut down to its core
    ("消息推送都推些什么内容" inside "App的消息推送都会推些什么内容") is a copy too."""
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return len(small & large) / len(small) if small else 0.0


def near_copy(example: str, question: str) -> bool:
    """Chinese (either side has Han): character bigram Jaccard >= 0.6 after folding, or 0.8 of
    the Han bigrams of the one with fewer (eight or more) among the other's; otherwise the same
    words, or word sets that overlap by 0.8 or more (at least four words)."""
    if HAN.search(example) or HAN.search(question):
        if folded(example) == folded(question):
            return True
        a, b = bigrams(example), bigrams(question)
        han_a, han_b = ({g for g in grams if HAN.search(g)} for grams in (a, b))
        return jaccard(a, b) >= 0.6 or (
            min(len(han_a), len(han_b)) >= 8 and contained(han_a, han_b) >= 0.8
        )
    words_a, words_b = normalise(example).split(), normalise(question).split()
    if words_a == words_b:
        return True
    return min(len(words_a), len(words_b)) >= 4 and jaccard(set(words_a), set(words_b)) >= 0.8


def eval_questions(path: Path) -> List[str]:
    """The `text` of every item, whether the file is a list of items or a mapping that holds one."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), [])
    return [item["text"] for item in data if isinstance(item, dict) and "text" in item]
