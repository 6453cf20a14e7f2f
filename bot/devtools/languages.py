"""Which language detector the assistant uses: the script rule of bot.core.language against
langdetect, on a labelled list of texts written for this (not the evaluation sets).

    python -m bot.devtools.languages [--errors]

The label is what the conversation should do with the text: "zh" or "en" to reply in (and keep)
that language, None for a text that says nothing about it (an e-mail, a phone number, a request
reference, a code, "ok", a name in Latin letters), after which the conversation keeps its language.
langdetect gets the same neutral parts removed first (it cannot answer "nothing" otherwise) and
its zh-cn / zh-tw count as "zh"; any other language it names counts as None (or, in the second
langdetect row, as Chinese when the text has Han and English otherwise).
"""

from __future__ import annotations

import argparse
import time
from typing import Callable, Dict, List, Optional, Tuple

from bot.core import language

LABELLED: List[Tuple[str, Optional[str]]] = [
    # Chinese, plain, formal, colloquial, Traditional, full-width
    ("我想注销我的账号", "zh"),
    ("请删除我的个人信息", "zh"),
    ("你们收集哪些数据", "zh"),
    ("能不能帮我转人工", "zh"),
    ("退订邮件", "zh"),
    ("冻结账户", "zh"),
    ("隐私政策", "zh"),
    ("刪除我的帳戶", "zh"),
    ("你們會把我的資料賣給別人嗎？", "zh"),
    ("谢谢", "zh"),
    ("好", "zh"),
    ("是的", "zh"),
    ("不是", "zh"),
    ("对", "zh"),
    ("算了", "zh"),
    ("取消", "zh"),
    ("停止", "zh"),
    ("嗯嗯好的", "zh"),
    ("我要撤回同意！", "zh"),
    ("数据会跨境传输吗？", "zh"),
    ("王伟", "zh"),
    ("李小龙", "zh"),
    ("我叫张三", "zh"),
    ("中文", "zh"),
    ("请用中文回答", "zh"),
    ("监护人怎么替孩子删除信息", "zh"),
    ("ｐｌｅａｓｅ帮我查一下进度", "zh"),
    # Chinese with English words in it
    ("你们的privacy policy什么时候更新", "zh"),
    ("GDPR是什么", "zh"),
    ("我的email是多少", "zh"),
    ("cookie是干嘛的", "zh"),
    ("我想delete我的account", "zh"),
    ("app会收集位置吗", "zh"),
    ("VideoPro的数据存在哪里", "zh"),
    ("我的邮箱是wang.wei@example.cn", "zh"),
    ("我的编号是DEL-7K3M9Q", "zh"),
    ("查一下 del 7k3m9q 的进度", "zh"),
    ("手机号13800138000", "zh"),
    ("请访问https://example.com 看看", "zh"),
    ("OK，谢谢", "zh"),
    ("ok 好的", "zh"),
    ("customer service 在哪", "zh"),
    # English
    ("delete my account", "en"),
    ("Do you sell my data?", "en"),
    ("when does the policy take effect", "en"),
    ("I want to talk to a human", "en"),
    ("unsubscribe", "en"),
    ("no", "en"),
    ("yes", "en"),
    ("nope", "en"),
    ("thanks", "en"),
    ("stop", "en"),
    ("cancel", "en"),
    ("English please", "en"),
    ("What is the status of DEL-7K3M9Q?", "en"),
    ("my email is wang.wei@example.cn", "en"),
    ("My name is 王伟", "en"),
    ("call me on +86 138 0013 8000 please", "en"),
    ("Who do you share my information with?", "en"),
    ("how long do you keep recordings", "en"),
    ("Is my data safe", "en"),
    ("hello", "en"),
    ("help", "en"),
    ("freeze my account", "en"),
    ("can I get a copy of my data", "en"),
    ("Does the policy mention 天津?", "en"),
    ("ＤＯ ＹＯＵ ＳＥＬＬ ＭＹ ＤＡＴＡ", "en"),
    # Nothing to tell
    ("ok", None),
    ("OK", None),
    ("okay", None),
    ("haha", None),
    ("wang.wei@example.cn", None),
    ("ｗａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ", None),
    ("+86 138 0013 8000", None),
    ("13800138000", None),
    ("138-0013-8000", None),
    ("１３８００１３８０００", None),
    ("DEL-7K3M9Q", None),
    ("del 7k3m9q", None),
    ("ＤＥＬ－７Ｋ３Ｍ９Ｑ", None),
    ("123456", None),
    ("/affirm", None),
    ('/set_language{"language": "zh"}', None),
    ("Li Wei", None),
    ("John Smith", None),
    ("Zhang San", None),
    ("https://example.com", None),
    ("?", None),
    ("？？", None),
    ("", None),
    ("GDPR", None),
]


def _langdetect(by_script: bool = False) -> Callable[[str], Optional[str]]:
    """langdetect; with `by_script`, a language other than en/zh counts as Chinese when the text
    has Han and as English otherwise (the kindest reading of its answer)."""
    from langdetect import (  # type: ignore[import-untyped]
        DetectorFactory,
        LangDetectException,
    )
    from langdetect import detect as langdetect_detect

    DetectorFactory.seed = 0  # langdetect is random unless seeded

    def detect(text: str) -> Optional[str]:
        rest = language.strip_neutral(text).strip()
        if not rest:
            return None
        try:
            found = langdetect_detect(rest)
        except LangDetectException:
            return None
        if found.startswith("zh") or found == "en":
            return "zh" if found.startswith("zh") else "en"
        return ("zh" if language.has_han(rest) else "en") if by_script else None

    return detect


def measure(detector: Callable[[str], Optional[str]]) -> Dict[str, object]:
    started = time.perf_counter()
    answers = [(text, label, detector(text)) for text, label in LABELLED]
    elapsed = time.perf_counter() - started
    right = sum(1 for _, label, got in answers if got == label)
    by_label: Dict[str, Tuple[int, int]] = {}
    for _, label, got in answers:
        ok, total = by_label.get(str(label), (0, 0))
        by_label[str(label)] = (ok + (got == label), total + 1)
    return {
        "accuracy": right / len(answers),
        "right": right,
        "total": len(answers),
        "by_label": by_label,
        "ms_per_text": 1000 * elapsed / len(answers),
        "errors": [(t, label, got) for t, label, got in answers if got != label],
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--errors", action="store_true", help="list every text a detector got wrong"
    )
    args = parser.parse_args(argv)
    detectors = {
        "script rule (bot.core.language.detect)": language.detect,
        "langdetect 1.0.9": _langdetect(),
        "langdetect, others by script": _langdetect(by_script=True),
    }
    for name, detector in detectors.items():
        result = measure(detector)
        by_label = result["by_label"]
        assert isinstance(by_label, dict)
        labels = "  ".join(
            f"{label}: {ok}/{total}" for label, (ok, total) in sorted(by_label.items())
        )
        print(
            f"{name:40s} accuracy {result['accuracy']:.3f} ({result['right']}/{result['total']})"
            f"  [{labels}]  {result['ms_per_text']:.2f} ms/text"
        )
        if args.errors:
            for text, label, got in result["errors"]:  # type: ignore[attr-defined]
                print(f"    {text!r}: expected {label}, got {got}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
