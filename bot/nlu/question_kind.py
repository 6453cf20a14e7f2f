"""A question about how long something takes is a question, not a request.

"How long after I close my account is my data erased?" and "注销账号以后，数据多久会被删除？" name a
right (deletion) and so read like a deletion request to the classifier, but the visitor wants to
know a period: the time the assistant gives itself to answer a request (15 working days with
today's settings), which is how requests are handled here (ask_process), not a form asking for an
e-mail address. This rule holds it where the classifier leans the other way. A message that also
asks for the request ("I want to delete my account, how long will it take?", "我要注销账号，多久能
办好") is still the request.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Tuple

from bot.core.language import registry
from bot.core.lexicon import lexicon


@cache
def _patterns(key: str) -> Tuple[re.Pattern[str], ...]:
    """Every registered language's pattern under `understanding.<key>`
    (data/lexicon/<language>/understanding.yml)."""
    return tuple(lexicon(code).pattern(f"understanding.{key}") for code in registry().codes)


def _found(key: str, text: str) -> bool:
    return any(pattern.search(text) for pattern in _patterns(key))


def asks_how_long_only(text: str) -> bool:
    """The message asks how long (or how soon) and does not also ask for anything to be done,
    in any registered language (each language's `understanding.how_long` and
    `understanding.asks_for_it`)."""
    lowered = text.lower()
    return _found("how_long", lowered) and not _found("asks_for_it", lowered)
