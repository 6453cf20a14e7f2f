"""Rasa's rules for the kinds of request, rendered from the registry.

Rasa cannot template rules, and every kind needs the same four: its intent starts its form,
the form's end stores the request, "stop" inside the form cancels it, and a language switch
inside the form is answered in the new language and the form goes on (asking its question again,
in that language). Writing them out by
hand five times is how a sixth kind ends up with three of the four; so they are rendered from
bot.requests.registry into data/rules/requests.yml, which is committed (Rasa reads it from
there) and checked against this rendering by tests/test_registry.py.

    python -m bot.requests.rules           # rewrite data/rules/requests.yml
    python -m bot.requests.rules --check   # exit 1 when the committed file is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from bot.core.paths import ROOT
from bot.requests.registry import KINDS, RequestKind

RULES_FILE = ROOT / "data" / "rules" / "requests.yml"
CANCEL_ACTION = "action_cancel_request"  # "stop" in any flow: nothing stored, answers forgotten
LANGUAGE_INTENT = "set_language"  # "请用中文", "English please", the chat window's switch
LANGUAGE_RESPONSE = "utter_language_set"  # said in the language switched to

HEADER = """\
# Generated from bot/requests/registry.py by `python -m bot.requests.rules`: do not edit.
# After changing a kind of request, run it again; tests/test_registry.py fails while this file
# differs from what the registry renders.
version: "3.1"

# Per kind of request: its intent starts its form, the form's end stores the request,
# "stop" inside the form cancels it, and a language switch inside it changes the language
# and goes on with the form.
rules:
"""

_RULES = """\
  - rule: start a {kind} request
    steps:
      - intent: {intent}
      - action: {form}
      - active_loop: {form}

  - rule: submit a {kind} request
    condition:
      - active_loop: {form}
    steps:
      - action: {form}
      - active_loop: null
      - slot_was_set:
          - requested_slot: null
      - action: {submit_action}

  - rule: stop a {kind} request
    condition:
      - active_loop: {form}
    steps:
      - intent: stop
      - action: action_deactivate_loop
      - active_loop: null
      - slot_was_set:
          - requested_slot: null
      - action: {cancel_action}

  - rule: switch language during a {kind} request
    condition:
      - active_loop: {form}
    steps:
      - intent: {language_intent}
      - action: {language_response}
      - action: {form}
      - active_loop: {form}
"""


def kind_rules(request: RequestKind) -> str:
    """The start, submit, stop and language-switch rules of one kind."""
    return _RULES.format(
        kind=request.kind,
        intent=request.intent,
        form=request.form,
        submit_action=request.submit_action,
        cancel_action=CANCEL_ACTION,
        language_intent=LANGUAGE_INTENT,
        language_response=LANGUAGE_RESPONSE,
    )


def render() -> str:
    """The whole of data/rules/requests.yml."""
    return HEADER + "\n".join(kind_rules(request) for request in KINDS)


def is_current() -> bool:
    return RULES_FILE.exists() and RULES_FILE.read_text(encoding="utf-8") == render()


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:  # not inside the checkout
        return str(path)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.requests.rules",
        description="Render Rasa's rules for the kinds of request.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only compare with the committed file; exit 1 when it is stale",
    )
    args = parser.parse_args(argv)
    if args.check:
        if is_current():
            return 0
        print(
            f"{_shown(RULES_FILE)} is out of date: run `python -m bot.requests.rules`",
            file=sys.stderr,
        )
        return 1
    RULES_FILE.parent.mkdir(parents=True, exist_ok=True)
    RULES_FILE.write_text(render(), encoding="utf-8")
    print(f"Wrote {_shown(RULES_FILE)} ({len(KINDS)} kinds of request, {4 * len(KINDS)} rules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
