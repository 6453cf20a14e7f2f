"""A third language is data alone for the coverage map: "xx", English with every letter accented,
registered in a registry of its own and added to a copy of the map as one more entry of each
topic's per-language maps, is read, named and matched with no code change; a topic that lacks it
fails the check, by name."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from bot.core.language import REGISTRY_FILE, Registry
from bot.policy.coverage import (
    COVERAGE_FILE,
    CUE_LISTS,
    TEXTS,
    Coverage,
    check_against,
    check_languages,
    load_coverage_from,
    parse_coverage,
)
from bot.policy.document import load_policy

PSEUDO = "xx"
# Every ASCII letter as an accented Latin letter (still one letter: a word stays a word).
_ACCENTED = str.maketrans("abcdefghijklmnopqrstuvwxyz", "áƀçďéƒğĥíĵķľḿñóṕɋřšťúṽŵẍýž")


def accent(text: str) -> str:
    return text.lower().translate(_ACCENTED)


def _accented(value: Any) -> Any:
    if isinstance(value, list):
        return [accent(str(item)) for item in value]
    return accent(str(value))


def pseudo_map(data: Dict[str, Any], language: str = PSEUDO) -> Dict[str, Any]:
    """The map with, beside each English text and cue list, its accented copy under `language`."""
    out = copy.deepcopy(data)
    for topic in out["topics"]:
        for key in (*TEXTS, *CUE_LISTS):
            if isinstance(topic.get(key), dict) and "en" in topic[key]:
                topic[key] = {**topic[key], language: _accented(topic[key]["en"])}
    return out


@pytest.fixture(scope="module")
def registry_xx(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    data = yaml.safe_load(REGISTRY_FILE.read_text(encoding="utf-8"))
    data["languages"][PSEUDO] = {
        "name": "Éñğľíšĥ",
        "html": "en-XA",
        "script": "latin",
        "tokenizer": "spacy",
        "match": "words",
        "tags": ["xx"],
        "names": ["pseudo"],
    }
    path: Path = tmp_path_factory.mktemp("registry") / "languages.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return Registry.load(path)


@pytest.fixture(scope="module")
def map_xx() -> Dict[str, Any]:
    return pseudo_map(yaml.safe_load(COVERAGE_FILE.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def coverage_xx(
    registry_xx: Registry, map_xx: Dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Coverage:
    path = tmp_path_factory.mktemp("coverage") / "coverage.yml"
    path.write_text(yaml.safe_dump(map_xx, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_coverage_from(path, registry_xx)


def test_the_registry_lists_the_third_language(registry_xx: Registry) -> None:
    assert registry_xx.codes == ("en", "zh", PSEUDO)


def test_the_map_loads_and_every_check_holds_for_it(coverage_xx: Coverage) -> None:
    assert coverage_xx.languages.codes == ("en", "zh", PSEUDO)
    assert check_languages(coverage_xx) == []
    assert check_against(coverage_xx, load_policy()) == []


def test_topics_are_named_and_described_in_it(coverage_xx: Coverage) -> None:
    location = coverage_xx.topic("location")
    assert location.name_in(PSEUDO) == accent("location data") == "ľóçáťíóñ ďáťá"
    assert location.name_in("en") == "location data" and location.name_in("zh") == "位置信息"
    payment = coverage_xx.topic("payment_information")
    assert payment.leaves_out_in(PSEUDO) == accent(payment.leaves_out_in("en"))
    assert payment.says_in(PSEUDO) == accent(payment.says_in("en"))
    assert coverage_xx.names_in(PSEUDO)["cookies"] == accent(
        "cookies and similar tracking technologies"
    )


@pytest.mark.parametrize(
    "question,topic,cue",
    [
        ("can the app turn on my webcam and watch me", "camera_microphone", "webcam"),
        ("how long do you keep my recordings", "meeting_recordings", "recording"),
        ("how long do you keep my information", "retention", "how long"),
        ("do you track where I am with GPS", "location", "where i am"),
        ("is my card number stored", "payment_information", "card number"),
        ("do you use cookies on the site", "cookies", "cookie"),
        ("will the government get my data", "law_enforcement", "government"),
    ],
)
def test_a_question_in_it_cues_the_topic_by_its_own_cues(
    coverage_xx: Coverage, question: str, topic: str, cue: str
) -> None:
    match = coverage_xx.match(accent(question))
    assert match is not None and match.topic.id == topic
    assert match.cue == accent(cue)  # its own cue, not an English one
    assert coverage_xx.match(question).cue == cue  # English still reads English


@pytest.mark.parametrize(
    "question",
    [
        "how do I mute my microphone",  # no privacy word: its own `requires` hold
        "where are your servers located",  # its own `unless` hold
        "do kids need their parents' permission",
    ],
)
def test_its_requires_and_unless_words_work_as_english_ones_do(
    coverage_xx: Coverage, question: str
) -> None:
    match = coverage_xx.match(accent(question))
    assert match is None or not match.topic.open


def test_the_other_languages_read_as_before(coverage_xx: Coverage) -> None:
    match = coverage_xx.match("App会获取我的地理位置吗")
    assert match is not None and (match.topic.id, match.cue) == ("location", "地理位置")


def test_a_topic_without_the_language_fails_the_check_by_name(
    registry_xx: Registry, map_xx: Dict[str, Any]
) -> None:
    data = copy.deepcopy(map_xx)
    location = next(topic for topic in data["topics"] if topic["id"] == "location")
    for key in ("name", "cues", "unless"):
        del location[key][PSEUDO]
    problems = check_languages(parse_coverage(data, registry_xx))
    assert "location: no name in xx" in problems
    assert "location: no `cues` in xx (the topic has them in en)" in problems
    assert "location: no `unless` in xx (the topic has them in en)" in problems
    assert all(problem.startswith("location: ") for problem in problems)


def test_a_partly_covered_topic_without_its_wording_fails_the_check(
    registry_xx: Registry, map_xx: Dict[str, Any]
) -> None:
    data = copy.deepcopy(map_xx)
    payment = next(topic for topic in data["topics"] if topic["id"] == "payment_information")
    del payment["leaves_out"][PSEUDO]
    problems = check_against(parse_coverage(data, registry_xx), load_policy())
    assert problems == ["payment_information: partly needs `says` and `leaves_out` in xx"]


def test_a_language_the_registry_does_not_list_is_refused_by_name(map_xx: Dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="camera_microphone.*xx, not a registered language"):
        parse_coverage(map_xx)  # the project's registry: en and zh
