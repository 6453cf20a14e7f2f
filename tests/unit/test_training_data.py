"""The training data covers every section and every intent the domain declares, and keeps the
development evaluation set out of training."""

import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import pytest
import yaml

from bot.core.language import named_language
from bot.core.paths import ROOT
from bot.policy.document import load_policy
from bot.requests.registry import KINDS
from tests.support.near_copies import HAN, eval_questions, near_copy, normalise, plain

NLU_DIR = ROOT / "data" / "nlu"
DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev_questions.yml"
DEV_QUESTIONS_ZH = ROOT.parent / "shared" / "eval" / "dev_questions_zh.yml"
LANGUAGE_SWITCH = NLU_DIR / "language_switch.yml"
REQUEST_INTENTS = [request.intent for request in KINDS] + ["human_handoff"]


def nlu_examples(paths: Optional[Iterable[Path]] = None) -> Dict[str, List[str]]:
    examples: Dict[str, List[str]] = {}
    for path in sorted(paths if paths is not None else NLU_DIR.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            lines = [
                line.strip()[2:].strip()
                for line in block["examples"].splitlines()
                if line.strip().startswith("- ")
            ]
            examples.setdefault(block["intent"], []).extend(lines)
    return examples


EXAMPLES = nlu_examples()
ZH_EXAMPLES = nlu_examples(NLU_DIR.glob("zh_*.yml"))
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("section_id", load_policy().section_ids)
def test_every_section_has_an_intent_with_at_least_30_examples(section_id):
    intent = f"ask_{section_id}"
    assert intent in DOMAIN["intents"]
    assert len(set(EXAMPLES.get(intent, []))) >= 30


@pytest.mark.parametrize("intent", REQUEST_INTENTS + ["out_of_scope", "ask_not_covered"])
def test_request_and_scope_intents_have_at_least_30_examples(intent):
    assert intent in DOMAIN["intents"]
    assert len(set(EXAMPLES.get(intent, []))) >= 30


def test_domain_and_training_data_name_the_same_intents():
    assert set(EXAMPLES) == set(DOMAIN["intents"])


def test_no_example_is_given_to_two_intents():
    owner = {}
    for intent, lines in EXAMPLES.items():
        for line in lines:
            key = normalise(line)
            assert owner.setdefault(key, intent) == intent, f"{line!r}: {owner[key]} and {intent}"


def test_development_questions_are_not_training_data():
    if not DEV_QUESTIONS.exists():
        pytest.skip(f"{DEV_QUESTIONS} is not beside this checkout")
    dev = {normalise(item["text"]) for item in yaml.safe_load(DEV_QUESTIONS.read_text())}
    leaked = [line for lines in EXAMPLES.values() for line in lines if normalise(line) in dev]
    assert leaked == []


def test_near_copy_measure_tells_copies_from_different_questions() -> None:
    assert near_copy("你们的隐私政策什么时候生效？", "你们的隐私政策什么时候生效")
    assert near_copy("ＡＢＣ的隐私政策什么时候生效?", "abc的隐私政策什么时候生效？")
    assert near_copy("刪除我的帳戶資料", "删除我的帐户资料")
    assert near_copy('[注销]{"entity": "x"}我的账号吧', "注销我的账号")
    assert not near_copy("我想注销账号", "你们会卖我的数据吗")
    assert near_copy("消息推送都推些什么内容", "App的消息推送都会推些什么内容")
    assert not near_copy("隐私政策什么时候更新", "你们会把我的数据卖给别人吗")
    assert near_copy("How long do you keep my data?", "how long do you keep my data")
    assert not near_copy("how long do you keep my data", "who do you share my data with")


def test_no_training_example_is_a_near_copy_of_a_chinese_development_question() -> None:
    """Training on the measuring set would stop it measuring: no example, in either language, may be
    the same as a question of dev_questions_zh.yml or a close paraphrase of one."""
    if not DEV_QUESTIONS_ZH.exists():
        pytest.skip(f"{DEV_QUESTIONS_ZH} is not beside this checkout")
    questions = eval_questions(DEV_QUESTIONS_ZH)
    assert questions, "no questions read from the Chinese development set"
    offenders = [
        f"{intent}: {plain(line)!r}"
        for intent, lines in EXAMPLES.items()
        for line in lines
        if any(near_copy(line, question) for question in questions)
    ]
    print("\n".join(offenders))
    assert offenders == [], f"{len(offenders)} training examples copy development questions"


@pytest.mark.parametrize("intent", sorted(set(DOMAIN["intents"]) | {"set_language"}))
def test_every_intent_has_at_least_30_chinese_examples(intent: str) -> None:
    chinese = {
        normalise(line)
        for line in ZH_EXAMPLES.get(intent, []) + EXAMPLES.get(intent, [])
        if HAN.search(line)
    }
    assert len(chinese) >= 30 or (intent == "set_language" and len(chinese) >= 15), len(chinese)


def test_chinese_examples_live_in_the_chinese_files() -> None:
    """zh_*.yml hold Chinese: each example there has a Han character, or is an answer typed the
    same way in either language (an e-mail, a phone number, a code, a reference)."""
    misplaced = [
        line
        for lines in ZH_EXAMPLES.values()
        for line in lines
        if not HAN.search(line)
        and re.search(r"[a-z]{3,}", plain(line).lower())
        and not re.search(r"@|＠|[A-Z]{3}-[0-9A-Z]{6}", plain(line))
    ]
    assert misplaced == []


def test_language_switch_examples_name_the_language_they_ask_for() -> None:
    """set_language: 15 or more examples per language, each marking the language asked for as the
    entity `language` with the value "zh" or "en" (the language named, not the one written in)."""
    lines = nlu_examples([LANGUAGE_SWITCH]).get("set_language", [])
    written = {"zh": 0, "en": 0}
    for line in lines:
        values = re.findall(r'\{"entity": "language", "value": "(\w+)"\}', line)
        assert len(values) == 1 and values[0] in ("zh", "en"), line
        written["zh" if HAN.search(line) else "en"] += 1
    assert written["zh"] >= 15 and written["en"] >= 15, written
    asked = [re.findall(r'"value": "(\w+)"', line)[0] for line in lines]
    assert asked.count("zh") >= 10 and asked.count("en") >= 10


def test_the_language_a_switch_example_asks_for_is_the_one_it_names() -> None:
    """The slot is filled from the language the message names (bot.core.language.named_language):
    the annotation of every example must agree with it."""
    for line in nlu_examples([LANGUAGE_SWITCH])["set_language"]:
        annotated = re.findall(r'"value": "(\w+)"', line)[0]
        assert named_language(plain(line)) == annotated, line


def test_help_menu_never_names_a_section_heading():
    """The eval's out-of-scope rule: a reply that cites no section must not contain a heading."""
    headings = [s.heading for s in load_policy().sections]
    for name in ("utter_help", "utter_out_of_scope", "utter_please_rephrase", "utter_greet"):
        for variant in DOMAIN["responses"][name]:
            titles = " ".join(b["title"] for b in variant.get("buttons", []))
            shown = variant.get("text", "") + titles
            assert not [h for h in headings if h in shown], name


def test_every_help_button_starts_a_known_intent():
    for button in DOMAIN["responses"]["utter_help"][0]["buttons"]:
        assert button["payload"].lstrip("/") in DOMAIN["intents"]


OWN_DEV_SETS = sorted((ROOT / "eval").glob("*.yml"))


@pytest.mark.parametrize("path", OWN_DEV_SETS, ids=lambda path: path.name)
def test_no_training_example_is_a_near_copy_of_our_own_development_sets(path: Path) -> None:
    """eval/*.yml measure what visitors want to do; an example copied from them would stop that."""
    questions = eval_questions(path)
    assert questions, f"no questions read from {path}"
    offenders = [
        f"{intent}: {plain(line)!r} ~ {question!r}"
        for intent, lines in EXAMPLES.items()
        for line in lines
        for question in questions
        if near_copy(line, question)
    ]
    assert offenders == [], "\n".join(offenders)
