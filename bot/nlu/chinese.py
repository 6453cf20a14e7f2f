"""Reading Chinese: words (jieba), character n-grams, and where one question ends, the next begins.

The sentence encoder (all-MiniLM-L6-v2) was trained on English and knows no Chinese, so for a
Chinese message the NLU pipeline leans on what these give it instead:

- `segment`: jieba's words for a run of Han characters, with the privacy vocabulary of this
  assistant (the lexicon's `understanding.tokenizer_words`: 注销账号, 个人信息, 撤回同意 ...)
  added to jieba's dictionary, so that a keyword-only message is one or two words the
  classifier has seen, not characters.
- `NgramSpace`: character 1- and 2-grams, TF-IDF weighted over the Chinese reference translation
  of the policy, for the evidence (which sentences answer a Chinese question; `bot.nlu.evidence`).
- `split_clauses`: the separate questions of a Chinese message ("你们和谁共享我的数据，数据存在
  哪里？" asks two), split at ？/；/，/还有/以及/另外 where each side is a question of its own.

Input is expected normalised (`bot.core.language.normalise`: half-width, Simplified).
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from bot.core.language import HAN, registry
from bot.core.lexicon import lexicon

_JIEBA: Any = None


def domain_words() -> Tuple[str, ...]:
    """The words jieba must keep whole: each jieba-tokenised language's
    `understanding.tokenizer_words` (data/lexicon/<language>/understanding.yml). Without them
    转人工 is 转/人工 and 撤回同意 is 撤回/同意 only sometimes; a fixed list keeps training and
    serving segmentation identical."""
    return tuple(
        word
        for language in registry().languages
        if language.tokenizer == "jieba"
        for word in lexicon(language.code).words("understanding.tokenizer_words")
    )


def _jieba() -> Any:
    """jieba, loaded once with the domain words (its dictionary takes about a second)."""
    global _JIEBA
    if _JIEBA is None:
        import jieba  # type: ignore[import-untyped]

        jieba.setLogLevel(logging.WARNING)
        for word in domain_words():
            jieba.add_word(word, freq=50000)
        jieba.initialize()
        _JIEBA = jieba
    return _JIEBA


def segment(text: str) -> List[Tuple[str, int, int]]:
    """jieba's words of `text` with their offsets, whitespace dropped (Rasa 3's JiebaTokenizer
    keeps whitespace as tokens, a known problem)."""
    return [(word, start, end) for word, start, end in _jieba().tokenize(text) if word.strip()]


# ------------------------------------------------------------------ character n-grams

_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_RUN = re.compile(r"[0-9a-z]+")
# Characters too common to say what a sentence is about.
_STOP_CHARS = frozenset(
    "的了是在和与或及等您我你们他她它这那个之其对将会可以也都就而被把从向吗呢吧啊"
)
# What a visitor says -> the words the reference translation uses for it. Added to the question's
# n-grams (never to the policy's), like the English synonyms of bot.core.words.
QUESTION_SYNONYMS: Dict[str, str] = {
    "卖": "出售",
    "卖给": "出售",
    "别人": "第三方",
    "其他公司": "第三方",
    "外人": "第三方",
    "给谁": "共享 披露 第三方",
    "分享": "共享",
    "存在哪": "存储",
    "存哪": "存储",
    "放在哪": "存储",
    "存多久": "保存 期限",
    "留多久": "保存 期限",
    "多久": "期限 保存",
    "删掉": "删除",
    "删了": "删除",
    "删": "删除",
    "注销": "删除 账号",
    "改": "更正",
    "修改": "更正",
    "看我的": "访问",
    "查看": "访问",
    "下载": "副本",
    "安全": "安全 保护",
    "黑客": "攻击",
    "小孩": "儿童",
    "孩子": "儿童 未成年人",
    "未成年": "未成年人 儿童",
    "国外": "境外 跨境",
    "出境": "跨境 境外",
    "广告": "营销 推广",
    "邮件": "电子邮件 通讯",
    "短信": "通讯",
    "生效": "生效日期",
    "什么时候更新": "变更 更新",
    "改变": "变更",
    "位置": "位置信息",
    "录像": "录制",
    "录音": "录制",
    "cookies": "cookie",
    "收集什么": "收集 类型",
}


def _expanded(text: str) -> str:
    extra = [words for said, words in QUESTION_SYNONYMS.items() if said in text]
    return text + (" " + " ".join(extra) if extra else "")


def grams(text: str, sizes: Sequence[int] = (1, 2)) -> Counter:
    """Character n-grams inside runs of Han (no n-gram crosses punctuation, a space or Latin
    text), and each Latin word or number whole, lower-cased. Unigrams of very common characters
    are dropped."""
    counts: Counter = Counter()
    lowered = text.lower()
    for run in _HAN_RUN.findall(lowered):
        for size in sizes:
            for i in range(len(run) - size + 1):
                gram = run[i : i + size]
                if size == 1 and gram in _STOP_CHARS:
                    continue
                counts[gram] += 1
    counts.update(_LATIN_RUN.findall(lowered))
    return counts


def question_grams(text: str) -> Counter:
    """A question's n-grams, with the policy's words for what it says colloquially."""
    return grams(_expanded(text))


@dataclass(frozen=True)
class NgramSpace:
    """TF-IDF over character n-grams of a fixed set of documents (the translated sentences)."""

    vocabulary: Dict[str, int]
    idf: np.ndarray
    documents: np.ndarray  # (documents, vocabulary), rows of unit length

    @classmethod
    def fit(cls, documents: Sequence[str]) -> NgramSpace:
        counted = [grams(d) for d in documents]
        frequency: Counter = Counter()
        for counts in counted:
            frequency.update(counts.keys())
        vocabulary = {gram: i for i, gram in enumerate(sorted(frequency))}
        total = len(documents)
        idf = np.array([math.log((1 + total) / (1 + frequency[g])) + 1.0 for g in vocabulary])
        space = cls(vocabulary, idf, np.zeros((0, len(vocabulary))))
        return cls(
            vocabulary,
            idf,
            np.stack([space.vector_of(c) for c in counted])
            if counted
            else np.zeros((0, len(vocabulary))),
        )

    def vector_of(self, counts: Counter) -> np.ndarray:
        vector = np.zeros(len(self.vocabulary))
        for gram, count in counts.items():
            index = self.vocabulary.get(gram)
            if index is not None:
                vector[index] = (1.0 + math.log(count)) * self.idf[index]
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def vector(self, text: str) -> np.ndarray:
        return self.vector_of(grams(text))

    def question_vector(self, text: str) -> np.ndarray:
        return self.vector_of(question_grams(text))

    def similarities(self, text: str) -> np.ndarray:
        """Cosine similarity of `text` to every document, in their order."""
        return self.documents @ self.question_vector(text)


# ------------------------------------------------------------------ two questions in one

# Something in the clause that makes it a question of its own.
_QUESTION = re.compile(
    r"谁|哪|什么|啥|怎么|怎样|如何|吗|多久|多长|多少|是否|能否|可否|会不会|能不能|可不可以|"
    r"有没有|是不是|为什么|为何|干嘛|干吗|几|呢|\?"
)
# Where a second question may start: question marks, semicolons, commas, and the words that
# join two questions. The joining words are kept with the second part.
_BREAK = re.compile(r"[?？;；,，。!！]+|(?=还有|以及|另外|此外|并且|而且|同时|顺便问一下|顺便)")
_JOINER = re.compile(r"^(?:还有|以及|另外|此外|并且|而且|同时|顺便问一下|顺便)")
MIN_PART_HAN = 4


def split_clauses(text: str) -> List[str]:
    """The separate questions of a Chinese message; one element when it asks one thing.

    The message is cut at every possible break; a piece that is no question of its own ("请问",
    "我想知道", "姓名以及电话") joins the piece after it (the last one joins the one before), and
    the split holds only when two or more pieces remain, each a question with four or more Han
    characters beside its joining word."""
    stripped = text.strip()
    pieces = [p.strip() for p in _BREAK.split(stripped)]
    pieces = [p for p in pieces if p]
    parts: List[str] = []
    pending = ""
    for piece in pieces:
        candidate = pending + piece
        if _QUESTION.search(piece):
            parts.append(candidate)
            pending = ""
        else:
            pending = candidate
    if pending:
        if parts:
            parts[-1] += pending
        else:
            parts.append(pending)
    cleaned = [_JOINER.sub("", p).strip() for p in parts]
    if len(cleaned) < 2 or any(len(HAN.findall(p)) < MIN_PART_HAN for p in cleaned):
        return [stripped]
    return cleaned
