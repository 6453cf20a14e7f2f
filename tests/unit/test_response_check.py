"""The faster check of action server replies gives jsonschema's verdict on Rasa's own schema, and
the same error, for replies of every shape: generated ones, and those our actions send."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from bot.rasa.response_check import ResponseCheck

SCHEMA = RemoteAction.action_response_format_spec()
CHECK = ResponseCheck(SCHEMA)
EVENT_NAMES = sorted(CHECK.by_event or {}) + ["no_such_event"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
# Field names the event schemas constrain, so that generated events hit their rules.
FIELDS = [
    "name",
    "value",
    "text",
    "parse_data",
    "timestamp",
    "metadata",
    "entities",
    "intent",
    "policy",
    "confidence",
    "input_channel",
    "message_id",
    "date_time",
    "kill_on_user_msg",
    "data",
    "action_text",
    "hide_rule_turn",
    "validate",
    "is_interrupted",
    "entity",
]
events = st.one_of(
    st.fixed_dictionaries(
        {"event": st.sampled_from(EVENT_NAMES)}, optional={field: values for field in FIELDS}
    ),
    values,
)
replies = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "events": st.one_of(st.lists(events, max_size=4), values),
            "responses": st.one_of(st.lists(values, max_size=3), values),
        },
    ),
    values,
)


def rasas_verdict(reply):
    try:
        validate(reply, SCHEMA)
    except ValidationError as error:
        return error.message
    return None


@settings(max_examples=600, deadline=None)
@given(reply=replies)
def test_the_same_verdict_and_error_as_jsonschema(reply):
    ours = CHECK.error(reply)
    assert (ours.message if ours is not None else None) == rasas_verdict(reply)


@pytest.mark.parametrize(
    "reply",
    [
        {
            "events": [
                {"event": "slot", "name": "last_section", "value": "security"},
                {"event": "active_loop", "name": None},
                {"event": "followup", "name": "action_listen"},
            ],
            "responses": [{"text": "x", "buttons": []}],
        },
        {"events": [], "responses": []},
        {},
    ],
)
def test_our_actions_replies_pass_without_the_full_validator(reply, monkeypatch):
    def refuse(_):
        raise AssertionError("the full validator ran")

    monkeypatch.setattr(CHECK.full, "iter_errors", refuse)
    assert CHECK.error(reply) is None


def test_a_schema_of_another_shape_always_gets_the_full_validator():
    other = {"type": "object", "properties": {"events": {"type": "array"}}}
    assert ResponseCheck(other).by_event is None
    assert ResponseCheck(other).error({"events": "x"}) is not None
