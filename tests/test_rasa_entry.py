"""The faster check of action server replies must accept and refuse exactly what Rasa's does."""

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_entry import cache_action_response_validation

GOOD = {"events": [{"event": "slot", "name": "last_section", "value": "security"}],
        "responses": [{"text": "The policy section says: ..."}]}
BAD = {"events": [{"event": "slot", "name": 3}], "responses": "not a list"}


@pytest.fixture
def both():
    action = RemoteAction("action_answer_policy", EndpointConfig("http://localhost:5055/webhook"))
    original = RemoteAction._validate_action_result
    yield action, original
    RemoteAction._validate_action_result = original


def test_same_verdicts_as_rasa(both):
    action, original = both
    assert original(action, GOOD) is True
    with pytest.raises(ValidationError) as rasas:
        original(action, BAD)
    cache_action_response_validation()
    for _ in range(2):  # the second call uses the compiled validator
        assert action._validate_action_result(GOOD) is True
        with pytest.raises(ValidationError) as ours:
            action._validate_action_result(BAD)
        assert ours.value.message == rasas.value.message
