"""`rasa` with two changes: personal data masked in every log record, and the action server's
replies validated with a schema validator built once instead of once per action.

The stack starts Rasa and the action server through this module instead of the `rasa` script.
Rasa 3.6 checks every action server reply with `jsonschema.validate`, which re-checks the schema
itself on each call: profiled with py-spy, that was 85% of the time Rasa spent running a custom
action. The reply is still validated against the same schema, with the same error.
"""

import sys
from typing import Any, Dict

from bot.masking import install_log_masking


def cache_action_response_validation() -> None:
    from jsonschema import exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    compiled: Dict[str, Any] = {}

    def validate(self: RemoteAction, result: Dict[str, Any]) -> bool:
        validator = compiled.get("validator")
        if validator is None:
            schema = self.action_response_format_spec()
            cls = validators.validator_for(schema)
            cls.check_schema(schema)
            validator = compiled["validator"] = cls(schema)
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from "
            f"the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions")
        raise error

    RemoteAction._validate_action_result = validate


def main() -> None:
    install_log_masking()
    if sys.argv[1:2] == ["run"] and sys.argv[2:3] != ["actions"]:
        cache_action_response_validation()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
