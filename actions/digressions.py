"""Questions asked in the middle of a form: answered in passing, then the form goes on."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import question_text
from bot.answers import answer_from_section, not_covered
from bot.policy import load_policy
from bot.topics import silent_topic

DIGRESSION_INTENTS = ("ask_not_covered", "bot_challenge", "help", "human_handoff")
# How sure NLU must be before an answer that didn't fit is taken as a question instead; for
# free-text slots ("reason") almost anything fits, so only a confident question counts.
STRICT_CONFIDENCE = 0.5
LOOSE_CONFIDENCE = 0.8


def _intent(tracker: Tracker):  # noqa: ANN202
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name") or "", float(intent.get("confidence") or 0.0)


def is_digression(tracker: Tracker, strict: bool = True) -> bool:
    """A question rather than an answer. For free-text slots ("reason") almost anything fits,
    so there it takes a confident question, or a question mark."""
    name, confidence = _intent(tracker)
    if not (name.startswith("ask_") or name in DIGRESSION_INTENTS):
        return False
    asks = question_text(tracker).rstrip().endswith("?")
    return confidence >= (STRICT_CONFIDENCE if strict or asks else LOOSE_CONFIDENCE)


def answer_digression(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    policy = load_policy()
    name, _ = _intent(tracker)
    if name == "ask_not_covered":
        reply = not_covered(policy, silent_topic(question_text(tracker)))
        dispatcher.utter_message(text=reply.text)  # no buttons: the form's question follows
    elif name.startswith("ask_") and policy.has_section(name[4:]):
        dispatcher.utter_message(text=answer_from_section(policy, name[4:],
                                                          question_text(tracker)).text)
    elif name == "bot_challenge":
        dispatcher.utter_message(response="utter_iamabot")
    elif name == "human_handoff":
        dispatcher.utter_message(text=(
            "I can get you a person as soon as we've finished or stopped this request: say "
            "\u201cstop\u201d to end it now."))
    else:
        dispatcher.utter_message(response="utter_help")
