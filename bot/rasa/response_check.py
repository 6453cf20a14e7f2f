"""The check of an action server's reply against Rasa's schema, with the verdicts of jsonschema
and a fraction of its time.

Rasa's schema says each event is `oneOf` 23 event schemas, so jsonschema tries all 23 on every
event to be sure exactly one fits: under load this was 13 % of Rasa's event loop (py-spy,
`make bench`). Each of the 23 fixes `event` to its own constant, so an event can only ever fit
the one whose constant its `event` names: validating it against that one (with the properties
every event shares) is valid exactly when the `oneOf` is. A reply that passes this way is
valid; anything else (an unknown event name, a wrong type anywhere, a schema of a later Rasa
that no longer has this shape) goes to the full jsonschema validator, so every refusal carries
jsonschema's own best-matching error, word for word as before.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from jsonschema import exceptions, validators


def _event_validators(events_schema: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """One validator per event name, or None when the schema is not of the shape above."""
    item = events_schema.get("items") if events_schema.get("type") == "array" else None
    if not isinstance(item, Mapping) or not isinstance(item.get("oneOf"), list):
        return None
    choices = item["oneOf"]
    shared = {key: value for key, value in item.items() if key != "oneOf"}
    by_name: Dict[str, Any] = {}
    for choice in choices:
        name = ((choice.get("properties") or {}).get("event") or {}).get("const")
        if not isinstance(name, str) or name in by_name:
            return None
        schema = {**shared, "allOf": [choice]}
        cls = validators.validator_for(schema)
        by_name[name] = cls(schema)
    return by_name


class ResponseCheck:
    """Built once from `RemoteAction.action_response_format_spec()`."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        cls = validators.validator_for(schema)
        cls.check_schema(schema)
        self.full = cls(schema)
        properties = schema.get("properties") or {}
        responses = properties.get("responses") or {}
        simple_responses = responses == {"type": "array", "items": {"type": "object"}}
        shape_known = (
            schema.get("type") == "object"
            and set(properties) == {"events", "responses"}
            and simple_responses
            and len(schema) == 2
        )
        self.by_event = _event_validators(properties.get("events") or {}) if shape_known else None

    def _surely_valid(self, result: Any) -> bool:
        if self.by_event is None or not isinstance(result, dict):
            return False
        events = result.get("events", [])
        responses = result.get("responses", [])
        if not isinstance(events, list) or not isinstance(responses, list):
            return False
        if not all(isinstance(response, dict) for response in responses):
            return False
        for event in events:
            name = event.get("event") if isinstance(event, dict) else None
            check = self.by_event.get(name) if isinstance(name, str) else None
            if check is None or not check.is_valid(event):
                return False
        return True

    def error(self, result: Any) -> Optional[exceptions.ValidationError]:
        """None for a valid reply; else jsonschema's best-matching error for it."""
        if self._surely_valid(result):
            return None
        return exceptions.best_match(self.full.iter_errors(result))
