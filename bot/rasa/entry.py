"""`rasa`, as the stack starts it: personal data masked in every log record, the action
endpoint checked at start, and three patches of Rasa's internals that Rasa offers no extension
point for (both through `bot.rasa.patches.replace`, which stops the server at start if Rasa is
not the version they were written for):

- the action server's replies are validated with a schema validator built once instead of once
  per action. Rasa 3.6 checks every reply with `jsonschema.validate`, which re-checks the schema
  itself on each call: profiled with py-spy, that was 85% of the time Rasa spent running a
  custom action. The reply is still validated against the same schema, with the same verdict
  and error (`bot.rasa.response_check`, which also spares jsonschema trying all 23 event schemas
  of each event);
- the graph of NLU components and policies is run without rebuilding its task graph for every
  message (`bot.rasa.graph_run`: the same nodes called in dependency order, the same results);
- a failing or slow action server is answered with an apology that keeps the visitor's answers
  (`bot.conversation.faults`) instead of silence.

Rasa's HTTP API token comes from RASA_API_TOKEN (the environment, or `.env`) and is added to the
arguments Rasa parses here, inside the process: no command line (`ps`, /proc/PID/cmdline) shows
it. What the server writes is its owner's alone (umask 077, bot.core.private_files).

What every incoming message may be (`bot.conversation.input_guard`) and what a REST body must
look like are not patches: Rasa's documented custom connectors in `bot.rasa.channels`, named in
`credentials.yml`, do it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any, Dict, List, Optional, Sequence

from bot.core.masking import install_log_masking
from bot.core.private_files import keep_private
from bot.core.settings import DEFAULTS, load_settings
from bot.rasa import patches

log = logging.getLogger("bot.rasa.entry")
DEFAULT_ACTION_TIMEOUT_SECONDS = DEFAULTS.action_timeout_seconds  # ACTION_TIMEOUT_SECONDS unset
RASA_VERSION = patches.WRITTEN_FOR


def cache_action_response_validation() -> None:
    """Validate action server replies with a check built on first use, not per call, that
    gives jsonschema's verdicts without trying every event schema (`bot.rasa.response_check`)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    from bot.rasa.response_check import ResponseCheck

    compiled: Dict[str, ResponseCheck] = {}

    def validate(self: RemoteAction, result: Dict[str, Any]) -> bool:
        check = compiled.get("check")
        if check is None:
            check = compiled["check"] = ResponseCheck(self.action_response_format_spec())
        error = check.error(result)
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from "
            f"the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    patches.replace(RemoteAction, "_validate_action_result", validate, RASA_VERSION)


def cache_graph_runs() -> None:
    """Each target list's task graph built once per loaded model, and run in order
    (`bot.rasa.graph_run`)."""
    from rasa.engine.runner.dask import DaskGraphRunner

    from bot.rasa.graph_run import run_cached

    patches.replace(DaskGraphRunner, "run", run_cached, RASA_VERSION)


# -- a failing action server -------------------------------------------------------------------


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def shorten_action_timeout() -> None:
    """Rasa waits up to five minutes for an action; the visitor's page gives up long before."""
    import rasa.core.actions.action as rasa_action
    import rasa.utils.endpoints as rasa_endpoints

    timeout = load_settings().action_timeout_seconds  # ACTION_TIMEOUT_SECONDS
    for module in (rasa_action, rasa_endpoints):
        patches.replace(module, "DEFAULT_REQUEST_TIMEOUT", timeout, RASA_VERSION, expect=is_number)


def apologised_this_turn(tracker: Any) -> bool:
    """Walks back only to the latest message: a long conversation costs nothing extra."""
    from rasa.shared.core.events import BotUttered, UserUttered

    from bot.conversation import faults

    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and faults.FAILURE_MARK in (event.metadata or {}):
            return True
    return False


def has_action_server(endpoint: Any) -> bool:
    """An action endpoint with a URL. Without one, no custom action can ever run: that is the
    operator's mistake to fix (see `action_endpoint_problem`), not a visitor's to retry."""
    return endpoint is not None and bool(getattr(endpoint, "url", None))


def apology_events(name: str, tracker: Any) -> List[Any]:
    """What a failed action leaves in the conversation: the apology with a "Try again" button,
    the pending request of a failed submit, and a failed validation's unchecked value forgotten
    (the form asks again)."""
    from rasa.shared.core.events import BotUttered, SlotSet

    from bot.conversation import faults

    apology = BotUttered(
        text=faults.failure_text(name),
        data={"buttons": [faults.retry_button()]},
        metadata=faults.failure_metadata(name),
    )
    result: List[Any] = [apology]
    kind = faults.pending_kind(name)
    if kind:
        result += [SlotSet(slot, value) for slot, value in faults.pending_slots(kind).items()]
    requested = tracker.get_slot("requested_slot")
    if name.startswith("validate_") and requested:
        result.append(SlotSet(requested, None))
    return result


def guard_remote_actions() -> None:
    """A custom action that cannot be run (server down, too slow, a bad reply) becomes an
    apology, not a silent turn; a request that could not be stored is remembered for "try
    again". `ActionExecutionRejection` is a form's normal "not this slot" and passes through,
    and so does a missing action endpoint: Rasa's own error, in the log, for the operator."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL
    from rasa.shared.exceptions import RasaException

    shorten_action_timeout()
    original = RemoteAction.run

    async def run(
        self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any
    ) -> List[Any]:
        name = self.name()
        if self.action_endpoint is None:
            return await original(self, output_channel, nlg, tracker, domain)  # Rasa's error
        if not has_action_server(self.action_endpoint):
            raise RasaException(
                f"Failed to execute custom action '{name}' because the action endpoint has no "
                f"url. Set `action_endpoint: url:` in the endpoints file. "
                f"{DOCS_BASE_URL}/custom-actions"
            )
        if apologised_this_turn(tracker):
            return []  # already apologised this turn: do not wait for the server again
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception as error:  # noqa: BLE001 - any failure gets the same honest reply
            log.error(
                "Custom action %s failed (%s); the visitor was told to try again",
                name,
                type(error).__name__,
            )
        return apology_events(name, tracker)

    patches.replace(RemoteAction, "run", run, RASA_VERSION)


# -- the action endpoint, checked at start -----------------------------------------------------


def endpoints_file(run_arguments: Sequence[str]) -> Optional[str]:
    """The endpoints file `rasa run` will read: `--endpoints` if that file exists, else
    `endpoints.yml` if it exists, else none (as `rasa.cli.run` decides)."""
    from rasa.shared.constants import DEFAULT_ENDPOINTS_PATH

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--endpoints")
    given = parser.parse_known_args(list(run_arguments))[0].endpoints
    for path in (given, DEFAULT_ENDPOINTS_PATH):
        if path and os.path.isfile(path):
            return path
    return None


def action_endpoint_problem(path: Optional[str]) -> Optional[str]:
    """Why custom actions cannot run with this endpoints file, or None when they can. Read with
    Rasa's own reader, so `${...}` values are filled from the environment as Rasa fills them."""
    from rasa.utils.endpoints import read_endpoint_config

    fix = (
        'add  action_endpoint: {url: "http://127.0.0.1:5055/webhook"}  (the action '
        "server's /webhook: ACTION_HOST, ACTION_PORT) and restart"
    )
    if path is None:
        return f"there is no endpoints file (endpoints.yml, or --endpoints FILE): {fix}"
    try:
        endpoint = read_endpoint_config(path, "action_endpoint")
    except Exception as error:  # noqa: BLE001 - Rasa reports the same file itself next
        return f"{path} cannot be read ({type(error).__name__}: {error})"
    if endpoint is None:
        return f"{path} has no `action_endpoint`: {fix}"
    if not has_action_server(endpoint):
        return f"the `action_endpoint` in {path} has no `url`: {fix}"
    return None


def check_action_endpoint(run_arguments: Sequence[str]) -> None:
    """Log, at start, an action endpoint Rasa cannot use. The server still starts: Rasa's own
    responses and its HTTP API (which erasing a conversation after a completed deletion needs)
    keep working, and each custom action logs Rasa's own error instead of a visitor being told
    to "try again" something that can never succeed."""
    problem = action_endpoint_problem(endpoints_file(run_arguments))
    if problem:
        log.error(
            "Custom actions cannot run (policy answers, request forms, handoffs): %s", problem
        )


def is_rasa_server(arguments: Sequence[str]) -> bool:
    """`run`, not `run actions` (the action server) nor any other command."""
    return arguments[:1] == ["run"] and arguments[1:2] != ["actions"]


def has_auth_token(arguments: Sequence[str]) -> bool:
    return any(a == "--auth-token" or a.startswith("--auth-token=") for a in arguments)


def with_api_token(arguments: Sequence[str], token: str) -> List[str]:
    """The arguments Rasa parses: `rasa run` gets `--auth-token` from `token` (RASA_API_TOKEN),
    in the one form that reads a token starting with `-` as a value. A token given on the
    command line (an old unit file) is kept as it is; other commands, or no token, get nothing."""
    if not token or not is_rasa_server(arguments) or has_auth_token(arguments):
        return list(arguments)
    return [*arguments, f"--auth-token={token}"]


def main() -> None:
    install_log_masking()
    arguments = with_api_token(sys.argv[1:], load_settings().rasa_api_token)
    if is_rasa_server(arguments):
        check_action_endpoint(arguments[1:])
        cache_action_response_validation()
        cache_graph_runs()
        guard_remote_actions()
    from rasa.__main__ import main as rasa_main

    sys.argv[:] = ["rasa", *arguments]  # this process's copy: its command line stays as it was
    rasa_main()


if __name__ == "__main__":
    keep_private()
    main()
