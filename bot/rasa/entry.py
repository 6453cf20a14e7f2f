"""`rasa` with four changes: personal data masked in every log record; the action server's
replies validated with a schema validator built once instead of once per action; every incoming
message checked by `bot.conversation.input_guard` whatever channel brought it; and a failing or slow action
server answered with an apology that keeps the visitor's answers (`bot.conversation.faults`) instead of
silence.

The stack starts Rasa and the action server through this module instead of the `rasa` script.
Rasa 3.6 checks every action server reply with `jsonschema.validate`, which re-checks the schema
itself on each call: profiled with py-spy, that was 85% of the time Rasa spent running a custom
action. The reply is still validated against the same schema, with the same error.
"""

import logging
import os
import sys
from typing import Any, Dict, List

from bot.core.masking import install_log_masking


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


log = logging.getLogger("bot.rasa.entry")
DEFAULT_ACTION_TIMEOUT_SECONDS = 10.0


def guard_incoming_messages() -> None:
    """Clean every message before Rasa reads it; empty and over-long ones get a reply and
    leave the conversation untouched (nothing is logged to the tracker for them)."""
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.constants import DEFAULT_INTENTS

    from bot.conversation import input_guard
    from bot.core.settings import load_settings

    max_chars = load_settings().max_message_chars
    original = MessageProcessor.handle_message

    async def handle_message(self: MessageProcessor, message: Any) -> Any:
        # Worked out once per domain (a model reload brings a new one), not per message.
        intents = getattr(self.domain, "_own_intents", None)
        if intents is None:
            intents = frozenset(i for i in self.domain.intents if i not in DEFAULT_INTENTS)
            self.domain._own_intents = intents
        prepared = input_guard.prepare(message.text, intents, max_chars)
        if prepared.problem is None:
            message.text = prepared.text
            return await original(self, message)
        log.info("Not processed (%s): %d characters", prepared.problem, prepared.length)
        output = message.output_channel
        await output.send_text_message(message.sender_id,
                                       input_guard.reply_for(prepared, max_chars))
        return getattr(output, "messages", None)

    MessageProcessor.handle_message = handle_message


def guard_channels() -> None:
    """A body that is not what the channel expects gets a 400 (REST) or is ignored (socketio),
    instead of a 500 or an exception in Rasa's log. The channel name is Rasa's own, never the
    visitor's: requests record the channel they came by."""
    from rasa.core.channels.rest import RestInput
    from sanic.exceptions import InvalidUsage

    from bot.conversation.input_guard import SENDER_MAX_CHARS

    def body(request: Any) -> Dict[str, Any]:
        try:
            data = request.json
        except Exception:  # noqa: BLE001 - sanic raises its own 400 for bad JSON
            raise InvalidUsage("The body must be JSON.")
        if not isinstance(data, dict):
            raise InvalidUsage('The body must be a JSON object: {"sender": ..., "message": ...}')
        return data

    async def extract_sender(self: RestInput, request: Any) -> Any:
        sender = body(request).get("sender", "default")
        if not isinstance(sender, str) or not 0 < len(sender) <= SENDER_MAX_CHARS:
            raise InvalidUsage(f"`sender` must be a string of 1 to {SENDER_MAX_CHARS} characters.")
        return sender

    def extract_message(self: RestInput, request: Any) -> Any:
        message = body(request).get("message", "")
        if message is not None and not isinstance(message, str):
            raise InvalidUsage("`message` must be a string.")
        return message

    RestInput._extract_sender = extract_sender
    RestInput._extract_message = extract_message
    RestInput._extract_input_channel = lambda self, request: self.name()

    # Rasa's socketio server accepts a browser connection from any site (its CORS list is
    # empty, which python-engineio reads as "do not check"); only the site's own pages may.
    from rasa.core.channels.socketio import SocketIOInput

    from bot.core.settings import load_settings

    site_origin = load_settings().site_origin
    original_blueprint = SocketIOInput.blueprint

    def blueprint(self: SocketIOInput, on_new_message: Any) -> Any:
        result = original_blueprint(self, on_new_message)
        self.sio.eio.cors_allowed_origins = [site_origin]  # others get a 400
        # Rasa's own CORS layer (`--cors`) already adds the headers; two copies would make
        # browsers refuse the reply.
        self.sio.eio._cors_headers = lambda environ: []
        return result

    SocketIOInput.blueprint = blueprint


def guard_remote_actions() -> None:
    """A custom action that cannot be run (server down, too slow, a bad reply) becomes an
    apology, not a silent turn; a request that could not be stored is remembered for "try
    again". `ActionExecutionRejection` is a form's normal "not this slot" and passes through."""
    import rasa.core.actions.action as rasa_action
    import rasa.utils.endpoints as rasa_endpoints
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core.events import BotUttered, SlotSet, UserUttered

    from bot.conversation import faults

    timeout = float(os.environ.get("ACTION_TIMEOUT_SECONDS") or DEFAULT_ACTION_TIMEOUT_SECONDS)
    # Rasa waits up to five minutes for an action; the visitor's page gives up long before.
    rasa_action.DEFAULT_REQUEST_TIMEOUT = timeout
    rasa_endpoints.DEFAULT_REQUEST_TIMEOUT = timeout
    original = RemoteAction.run

    def apologised_this_turn(tracker: Any) -> bool:
        # Walks back only to the latest message: a long conversation costs nothing extra.
        for event in reversed(tracker.events):
            if isinstance(event, UserUttered):
                return False
            if isinstance(event, BotUttered) and faults.FAILURE_MARK in (event.metadata or {}):
                return True
        return False

    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any,
                  domain: Any) -> List[Any]:
        name = self.name()
        if apologised_this_turn(tracker):
            return []  # already apologised this turn: do not wait for the server again
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception as error:  # noqa: BLE001 - any failure gets the same honest reply
            log.error("Custom action %s failed (%s); the visitor was told to try again", name,
                      type(error).__name__)
        apology = BotUttered(text=faults.failure_text(name),
                             data={"buttons": [faults.RETRY_BUTTON]},
                             metadata=faults.failure_metadata(name))
        result: List[Any] = [apology]
        kind = faults.pending_kind(name)
        if kind:
            result += [SlotSet(slot, value)
                       for slot, value in faults.pending_slots(kind).items()]
        requested = tracker.get_slot("requested_slot")
        if name.startswith("validate_") and requested:
            # What Rasa extracted was never checked: forget it, the form asks again.
            result.append(SlotSet(requested, None))
        return result

    RemoteAction.run = run


def main() -> None:
    install_log_masking()
    if sys.argv[1:2] == ["run"] and sys.argv[2:3] != ["actions"]:
        cache_action_response_validation()
        guard_incoming_messages()
        guard_channels()
        guard_remote_actions()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
