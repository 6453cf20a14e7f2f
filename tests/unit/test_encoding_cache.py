"""Encodings made ahead of NLU are found by the featurizer, and the cache stays bounded."""

import asyncio
import time

import numpy as np
import pytest

from bot.nlu.encoder import Encoded
from bot.nlu.encoding_cache import EncodingCache, Prefetcher, encoder_text


def encoded(value):
    return Encoded(
        np.full(384, value, dtype=np.float32), np.zeros((2, 384), np.float32), ((0, 0), (0, 0))
    )


class CountingEncoder:
    def __init__(self):
        self.calls = []

    def __call__(self, texts):
        self.calls.append(list(texts))
        return [encoded(len(t)) for t in texts]


def test_only_the_texts_not_held_are_encoded_in_one_batch():
    cache, encoder = EncodingCache(10), CountingEncoder()
    cache.put("yes", encoded(3.0))
    out = cache.encode(["yes", "delete my account", "no"], encoder)
    assert encoder.calls == [["delete my account", "no"]]
    assert [float(e.sentence[0]) for e in out] == [3.0, 17.0, 2.0]
    assert cache.encode(["no"], encoder)[0].sentence[0] == 2.0 and len(encoder.calls) == 1


def test_the_oldest_text_goes_first_and_size_zero_keeps_nothing():
    cache = EncodingCache(2)
    for text in ("a", "b", "c"):
        cache.put(text, encoded(1.0))
    assert "a" not in cache and "b" in cache and "c" in cache
    off = EncodingCache(0)
    off.put("a", encoded(1.0))
    assert "a" not in off


def test_prefetch_encodes_off_the_event_loop_once_and_skips_button_payloads():
    cache, encoder = EncodingCache(10), CountingEncoder()
    prefetcher = Prefetcher(cache, encoder)

    async def scenario():
        await prefetcher.prefetch("who gets my data")
        await prefetcher.prefetch("who gets my data")
        await prefetcher.prefetch("/affirm")
        await prefetcher.prefetch("")

    asyncio.run(scenario())
    assert encoder.calls == [["who gets my data"]]
    assert "who gets my data" in cache


def test_a_prefetcher_asks_its_encoder_only_for_the_texts_it_wants():
    """The English encoder's prefetcher leaves Chinese messages to the multilingual one."""
    from bot.core.language import has_han

    cache, encoder = EncodingCache(10), CountingEncoder()
    prefetcher = Prefetcher(cache, encoder, wants=lambda text: not has_han(text))

    async def scenario():
        await prefetcher.prefetch("請刪除我的賬戶")  # normalised first, then asked: still Chinese
        await prefetcher.prefetch("delete my account")

    asyncio.run(scenario())
    assert encoder.calls == [["delete my account"]]


def test_messages_waiting_together_share_one_pass_and_a_repeat_is_encoded_once():
    cache, encoder = EncodingCache(10), CountingEncoder()
    prefetcher = Prefetcher(cache, encoder)
    texts = ["who gets my data", "where is it kept", "delete my account", "who gets my data"]

    async def scenario():
        await asyncio.gather(*(prefetcher.prefetch(text) for text in texts))

    asyncio.run(scenario())
    assert encoder.calls == [["who gets my data", "where is it kept", "delete my account"]]
    assert all(text in cache for text in texts)


def test_messages_that_arrive_while_a_pass_runs_go_together_into_the_next():
    cache = EncodingCache(10)
    calls = []

    def slow_encoder(texts):
        calls.append(list(texts))
        time.sleep(0.05)
        return [encoded(1.0) for _ in texts]

    prefetcher = Prefetcher(cache, slow_encoder)

    async def later(text):
        await asyncio.sleep(0.01)  # the first pass is running by now
        await prefetcher.prefetch(text)

    async def scenario():
        await asyncio.gather(prefetcher.prefetch("first"), later("second"), later("third"))

    asyncio.run(scenario())
    assert calls == [["first"], ["second", "third"]] and prefetcher.batches == [1, 2]


def test_a_failed_pass_reaches_every_message_waiting_for_it_and_the_next_pass_still_runs():
    cache = EncodingCache(10)
    calls = []

    def encoder(texts):
        calls.append(list(texts))
        if "boom" in texts:
            raise RuntimeError("encoder failed")
        return [encoded(1.0) for _ in texts]

    prefetcher = Prefetcher(cache, encoder)

    async def scenario():
        return await asyncio.gather(prefetcher.prefetch("boom"), return_exceptions=True)

    [outcome] = asyncio.run(scenario())
    assert isinstance(outcome, RuntimeError) and "boom" not in cache
    asyncio.run(prefetcher.prefetch("fine"))
    assert "fine" in cache and calls[-1] == ["fine"]


def test_prefetch_keys_the_text_as_the_pipeline_normalises_it():
    """The featurizer looks up the LanguageDetector's text (half-width, Simplified)."""
    cache, encoder = EncodingCache(10), CountingEncoder()
    prefetcher = Prefetcher(cache, encoder)
    asyncio.run(prefetcher.prefetch("請刪除ＡＢＣ"))
    assert encoder.calls == [["请删除ABC"]]
    assert "请删除ABC" in cache and "請刪除ＡＢＣ" not in cache


@pytest.mark.parametrize(
    "typed, seen",
    [
        ("jane.doe@example.com", "name@example.com"),
        (
            "my address is Wang.Li+vp@mail.example.cn, thanks",
            "my address is name@example.com, thanks",
        ),
        ("482913", "123456"),
        ("the code is 48 29 13", "the code is 48 29 13"),  # short runs are words, not identifiers
        ("status of cor-4f8p2k?", "status of cor-7K3M9Q?"),
        ("sus-4f8p2l", "sus-4f8p2l"),
        ("+86 138 0013 8000", "+86 138 123456 123456"),
        ("我的邮箱是wang@example.cn", "我的邮箱是name@example.com"),
        ("do you sell my data", "do you sell my data"),
    ],
)
def test_identifiers_reach_the_encoder_as_stand_ins_of_their_kind(typed, seen):
    assert encoder_text(typed) == seen


async def test_different_addresses_typed_into_a_form_are_one_encoder_pass():
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return [object() for _ in texts]

    prefetcher = Prefetcher(EncodingCache(16), encode)
    for address in ("a@example.com", "b.c@example.org", "d@mail.example.cn"):
        await prefetcher.prefetch(address)
    assert calls == [["name@example.com"]]
