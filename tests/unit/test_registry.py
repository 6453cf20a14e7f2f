"""The kinds of request are defined once, in bot.requests.registry, and Rasa's side agrees with
it: domain.yml declares each kind's form with exactly its slots, its intent and its actions; its
slots are filled from text while its form asks them; the rules start, store and stop it; its
references read back as the kind. A new kind that misses one of these fails here, by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from rasa_sdk.executor import ActionExecutor

from bot.conversation import faults, flows
from bot.core.paths import ROOT
from bot.core.texts import has_text
from bot.requests import references, rules, store
from bot.requests.registry import (
    BY_FORM,
    BY_INTENT,
    BY_KIND,
    BY_PREFIX,
    BY_SUBMIT_ACTION,
    KINDS,
    NAMES,
    RequestKind,
    TakesEffectAtOnce,
)

DOMAIN: Dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
RULES_DIR = ROOT / "data" / "rules"
# Forms that are not a kind of request.
OTHER_FORMS = {"handoff_form", "status_form", "withdraw_form"}
IDS = [request.kind for request in KINDS]


def load_rules() -> List[Dict[str, Any]]:
    return [
        rule
        for path in sorted(RULES_DIR.glob("*.yml"))
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    ]


RULES = load_rules()


def served_actions() -> set:
    executor = ActionExecutor()
    executor.register_package("actions")
    return set(executor.actions)


SERVED = served_actions()


# -- the table itself -------------------------------------------------------------------------


def test_the_kinds_of_today_are_all_there():
    assert {"deletion", "correction", "suspension", "access", "unsubscribe"} <= set(NAMES)
    assert store.KINDS == NAMES
    assert set(BY_KIND) == set(NAMES) and len(KINDS) == len(NAMES)


@pytest.mark.parametrize("index", ["kind", "prefix", "form", "intent", "submit_action"])
def test_each_kind_is_found_by_each_of_its_names(index):
    table = {
        "kind": BY_KIND,
        "prefix": BY_PREFIX,
        "form": BY_FORM,
        "intent": BY_INTENT,
        "submit_action": BY_SUBMIT_ACTION,
    }[index]
    assert {getattr(request, index): request for request in KINDS} == table


def test_records_are_frozen():
    with pytest.raises(AttributeError):
        BY_KIND["deletion"].prefix = "XXX"  # type: ignore[misc]


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"kind": "withdrawal_of_consent"}, "short lower-case name"),
        ({"prefix": "De1"}, "three capital letters"),
        ({"reason_required": True}, "required reason must be one of the slots"),
        ({"slots": ("confirm_request", "verification_code")}, "account_email first"),
        ({"slots": ("account_email", "verification_code")}, "ends with"),
        ({"intent": "request objection"}, "intent is a lower-case name"),
    ],
)
def test_a_malformed_kind_is_refused_when_the_table_loads(change, problem):
    fields = dict(
        kind="objection",
        prefix="OBJ",
        slots=("account_email", "confirm_request", "verification_code"),
        right_section="use",
        right_cues=("c",),
    )
    with pytest.raises(ValueError, match=problem):
        RequestKind(**{**fields, **change})


def test_only_kinds_that_take_effect_at_once_skip_the_code():
    for request in KINDS:
        assert request.verify == (request.at_once is None)
        assert ("verification_code" in request.slots) == request.verify
    assert isinstance(BY_KIND["unsubscribe"].at_once, TakesEffectAtOnce)


# -- domain.yml -------------------------------------------------------------------------------


@pytest.mark.parametrize("request_kind", KINDS, ids=IDS)
def test_the_form_asks_exactly_the_registrys_slots_in_order(request_kind):
    assert DOMAIN["forms"][request_kind.form]["required_slots"] == list(request_kind.slots)


def test_every_request_form_in_the_domain_is_a_kind():
    assert set(DOMAIN["forms"]) - OTHER_FORMS == set(BY_FORM)
    # Every request_* intent starts a kind; a kind may name its own intent (file_complaint).
    assert {i for i in DOMAIN["intents"] if i.startswith("request_")} <= set(BY_INTENT)
    assert set(BY_INTENT) <= set(DOMAIN["intents"])


def test_the_intent_is_request_kind_unless_the_record_names_one():
    assert all(BY_KIND[k].intent == f"request_{k}" for k in NAMES if k != "complaint")
    assert BY_KIND["complaint"].intent == "file_complaint"
    assert BY_INTENT["file_complaint"].form == "complaint_form"
    fields = dict(
        kind="objection",
        prefix="OBJ",
        slots=("account_email", "confirm_request", "verification_code"),
        right_section="use",
        right_cues=("c",),
    )
    assert RequestKind(**fields).intent == "request_objection"
    assert RequestKind(**fields, intent="raise_objection").intent == "raise_objection"
    with pytest.raises(ValueError, match="intent is a lower-case name"):
        RequestKind(**fields, intent="Raise objection")


@pytest.mark.parametrize("request_kind", KINDS, ids=IDS)
def test_intent_and_actions_are_declared_and_served(request_kind):
    assert request_kind.intent in DOMAIN["intents"]
    for action in (request_kind.submit_action, request_kind.validation_action):
        assert action in DOMAIN["actions"]
        assert action in SERVED


@pytest.mark.parametrize("request_kind", KINDS, ids=IDS)
def test_each_slot_is_filled_from_text_while_the_form_asks_it(request_kind):
    for slot in request_kind.slots:
        declared = DOMAIN["slots"][slot]
        conditions = [
            condition
            for mapping in declared["mappings"]
            if mapping["type"] == "from_text"
            for condition in mapping.get("conditions", [])
        ]
        assert {"active_loop": request_kind.form, "requested_slot": slot} in conditions, slot


@pytest.mark.parametrize("request_kind", KINDS, ids=IDS)
def test_each_slot_can_be_asked_and_explained(request_kind):
    for slot in request_kind.slots:
        assert f"action_ask_{slot}" in DOMAIN["actions"] and f"action_ask_{slot}" in SERVED, slot
        assert has_text(f"flow.slot_purpose.{slot}"), slot


# -- data/rules/ ------------------------------------------------------------------------------


def expected_rules(request_kind: RequestKind) -> List[Dict[str, Any]]:
    deactivated = [{"active_loop": None}, {"slot_was_set": [{"requested_slot": None}]}]
    return [
        {
            "rule": f"start a {request_kind.kind} request",
            "steps": [
                {"intent": request_kind.intent},
                {"action": request_kind.form},
                {"active_loop": request_kind.form},
            ],
        },
        {
            "rule": f"submit a {request_kind.kind} request",
            "condition": [{"active_loop": request_kind.form}],
            "steps": [{"action": request_kind.form}]
            + deactivated
            + [{"action": request_kind.submit_action}],
        },
        {
            "rule": f"stop a {request_kind.kind} request",
            "condition": [{"active_loop": request_kind.form}],
            "steps": [{"intent": "stop"}, {"action": "action_deactivate_loop"}]
            + deactivated
            + [{"action": "action_cancel_request"}],
        },
        # A language switch inside the form: said in the new language, then the form asks again.
        {
            "rule": f"switch language during a {request_kind.kind} request",
            "condition": [{"active_loop": request_kind.form}],
            "steps": [
                {"intent": "set_language"},
                {"action": "utter_language_set"},
                {"action": request_kind.form},
                {"active_loop": request_kind.form},
            ],
        },
    ]


@pytest.mark.parametrize("request_kind", KINDS, ids=IDS)
def test_the_rules_start_submit_stop_and_switch_language_in_each_kind(request_kind):
    for rule in expected_rules(request_kind):
        assert rule in RULES, rule["rule"]


def test_no_other_rule_mentions_a_request_form():
    mentioned = [
        rule["rule"]
        for rule in RULES
        if any(
            step.get("action") in BY_FORM or step.get("active_loop") in BY_FORM
            for step in rule.get("steps", []) + rule.get("condition", [])
        )
    ]
    assert sorted(mentioned) == sorted(
        rule["rule"] for request in KINDS for rule in expected_rules(request)
    )


def test_the_committed_request_rules_are_what_the_registry_renders():
    """data/rules/requests.yml is generated: `python -m bot.requests.rules` rewrites it."""
    assert rules.RULES_FILE.read_text(encoding="utf-8") == rules.render()
    assert rules.main(["--check"]) == 0


def test_the_rendered_rules_say_they_are_generated_and_parse():
    text = rules.render()
    assert text.startswith(
        "# Generated from bot/requests/registry.py by `python -m bot.requests.rules`"
    )
    loaded = yaml.safe_load(text)
    assert loaded["version"] == "3.1"
    assert loaded["rules"] == [rule for request in KINDS for rule in expected_rules(request)]


def test_the_check_fails_on_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    stale = tmp_path / "requests.yml"
    stale.write_text(rules.render().replace("action_submit_access", "action_submit_x"))
    monkeypatch.setattr(rules, "RULES_FILE", stale)
    assert rules.main(["--check"]) == 1
    assert rules.main([]) == 0 and stale.read_text() == rules.render()


# -- what the rest of the code reads from it --------------------------------------------------


@pytest.mark.parametrize("request_kind", KINDS, ids=IDS)
def test_references_read_back_as_the_kind(request_kind):
    reference = references.new_reference(request_kind.kind)
    assert reference.startswith(f"{request_kind.prefix}-")
    assert references.REFERENCE_PATTERN.match(reference)
    assert references.kind_of(reference) == request_kind.kind
    assert references.normalise_reference(reference.lower().replace("-", " ")) == reference


@pytest.mark.parametrize("request_kind", KINDS, ids=IDS)
def test_the_flows_and_faults_follow_the_registry(request_kind):
    flow = flows.FLOWS[request_kind.kind]
    assert (flow.form, flow.slots, flow.verify) == (
        request_kind.form,
        request_kind.slots,
        request_kind.verify,
    )
    assert flows.FLOW_BY_FORM[request_kind.form] is flow
    assert faults.pending_kind(request_kind.submit_action) == request_kind.kind
