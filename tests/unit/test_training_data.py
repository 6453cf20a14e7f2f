"""The training data covers every section and every intent the domain declares, and keeps the
development evaluation set out of training."""


import pytest
import yaml

from bot.core.paths import ROOT
from bot.policy.document import load_policy
from bot.requests.registry import KINDS

NLU_DIR = ROOT / "data" / "nlu"
DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev_questions.yml"
REQUEST_INTENTS = [request.intent for request in KINDS] + ["human_handoff"]


def nlu_examples():
    examples = {}
    for path in sorted(NLU_DIR.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            lines = [line[2:].strip() for line in block["examples"].splitlines()
                     if line.strip().startswith("- ")]
            examples.setdefault(block["intent"], []).extend(lines)
    return examples


EXAMPLES = nlu_examples()
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def normalise(text):
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


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
