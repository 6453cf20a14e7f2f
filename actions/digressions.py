"""Questions asked in the middle of a form: answered in passing, then the form goes on."""

from __future__ import annotations

from typing import Any, Dict, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import language_of, question_text, reading_of, send
from actions.unanswered import answer_ref, record_gap
from bot.conversation import handoff_replies as handoff
from bot.conversation import process_answers
from bot.conversation.policy_reply import answer
from bot.conversation.routing import PROCESS_INTENT
from bot.policy.document import load_policy

DIGRESSION_INTENTS = ("ask_not_covered", "bot_challenge", "help", "human_handoff")
# How sure NLU must be before an answer that didn't fit is taken as a question instead; for
# free-text slots ("reason") almost anything fits, so only a confident question counts.
STRICT_CONFIDENCE = 0.5
LOOSE_CONFIDENCE = 0.8


def _intent(tracker: Tracker) -> Tuple[str, float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name") or "", float(intent.get("confidence") or 0.0)


def is_digression(tracker: Tracker, strict: bool = True) -> bool:
    """A question rather than an answer. For free-text slots ("reason") almost anything fits,
    so there it takes a confident question, or a question mark."""
    name, confidence = _intent(tracker)
    if not (name.startswith("ask_") or name in DIGRESSION_INTENTS):
        return False
    asks = question_text(tracker).rstrip().endswith(("?", "？"))
    return confidence >= (STRICT_CONFIDENCE if strict or asks else LOOSE_CONFIDENCE)


def answer_digression(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    name, _ = _intent(tracker)
    language = language_of(tracker)
    if name == PROCESS_INTENT:  # "how long will this take?" in the middle of a request
        dispatcher.utter_message(
            text=process_answers.reply_to(question_text(tracker), language).text
        )
    elif name.startswith("ask_"):
        answered = answer(load_policy(), reading_of(tracker), language=language)
        if answered.reply is None:
            dispatcher.utter_message(response="utter_help")
            return
        # No buttons: the form's question follows straight away.
        dispatcher.utter_message(text=answered.reply.text)
        if answered.decision.abstains:
            record_gap(answer_ref(answered, question_text(tracker), language))
    elif name == "bot_challenge":
        dispatcher.utter_message(response="utter_iamabot")
    elif name == "human_handoff":
        send(dispatcher, handoff.during_request(language))
    else:
        dispatcher.utter_message(response="utter_help")


def unusable(
    slot: str, problem: str, back: str, dispatcher: CollectingDispatcher, tracker: Tracker
) -> Dict[str, Any]:
    """Not an answer to the form's question: a question in passing is answered and `back` (the
    text that leads back to the form) said; anything else gets `problem`. The slot stays empty,
    so the form asks again."""
    if is_digression(tracker):
        answer_digression(dispatcher, tracker)
        dispatcher.utter_message(text=back)
    else:
        dispatcher.utter_message(text=problem)
    return {slot: None}
