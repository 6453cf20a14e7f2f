"""A question about how long something takes is a question, not a request.

"How long after I close my account is my data erased?" and "注销账号以后，数据多久会被删除？" name a
right (deletion) and so read like a deletion request to the classifier, but the visitor wants to
know a period, and the policy names none: the honest reply is that the policy does not say, not a
form asking for an e-mail address. Our training data says the same (data/nlu/zh_more_policy.yml,
ask_not_covered); this rule holds it where the classifier leans the other way. A message that also
asks for the request ("I want to delete my account, how long will it take?", "我要注销账号，多久能
办好") is still the request.
"""

from __future__ import annotations

import re

_HOW_LONG = re.compile(
    r"\bhow\s+(?:long|soon|many\s+(?:days|weeks|months|years))\b|多久|多长时间|多少天|几天|几个月"
)
_ASKS_FOR_IT = re.compile(
    r"\b(?:i\s+want|i\s+wanna|i'?d\s+like|i\s+would\s+like|i\s+need|please|pls|plz|help\s+me|"
    r"go\s+ahead)\b|我要|我想|我需要|请(?!问)|帮我|帮忙|麻烦|申请|给我"
)


def asks_how_long_only(text: str) -> bool:
    """The message asks how long (or how soon) and does not also ask for anything to be done."""
    lowered = text.lower()
    return bool(_HOW_LONG.search(lowered)) and not _ASKS_FOR_IT.search(lowered)
