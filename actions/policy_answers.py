"""Answers about the policy: the routed reply (direct, closest, not covered), the whole section,
and "yes" to the offer of a person."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import hand_over, handle_fallback
from actions.replies import latest_intent, offered_person, question_text, reading_of, send
from actions.unanswered import answer_ref, record_gap
from bot.conversation import process_answers
from bot.conversation.policy_reply import answer
from bot.conversation.routing import NOT_POLICY
from bot.core.language import or_default
from bot.core.settings import app_secret
from bot.policy.answers import Reply, full_section, no_section_yet
from bot.policy.document import load_policy
from bot.policy.gaps import AnswerRef

log = logging.getLogger(__name__)
LANGUAGE_SLOT = "language"


def conversation_language(tracker: Tracker) -> str:
    """The conversation's language, a registered language, from the `language` slot (unset: the
    default)."""
    return or_default(tracker.get_slot(LANGUAGE_SLOT))


def send_answer(
    dispatcher: CollectingDispatcher, tracker: Tracker, reply: Reply, ref: AnswerRef
) -> None:
    """The reply, with what the page needs to let the visitor rate it; without the secret that
    signs it (a misconfigured server), the answer still goes out, only unrated."""
    try:
        custom: Optional[Dict[str, Any]] = {"answer": ref.payload(app_secret(), tracker.sender_id)}
    except (RuntimeError, ValueError) as error:
        log.error("Answer sent without a feedback reference: %s", error)
        custom = None
    send(dispatcher, reply, custom=custom)


class ActionAnswerPolicy(Action):
    """Every policy question, every out-of-scope or unclear message: the router decides whether
    the policy answers it, comes close, or is silent; what is neither goes on as before."""

    def name(self) -> str:
        return "action_answer_policy"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        policy = load_policy()
        language = conversation_language(tracker)
        answered = answer(policy, reading_of(tracker), language=language)
        # A request's deadline, handler, code...: the policy is silent, the assistant is not.
        instead = process_answers.instead_of_silence(
            answered.decision, question_text(tracker), language
        )
        if instead is not None:
            send(dispatcher, instead)
            return []
        intent = latest_intent(tracker)
        if answered.decision.kind == NOT_POLICY or answered.reply is None:
            if intent == "nlu_fallback":
                record_gap(AnswerRef("fallback", (), None, language, question_text(tracker)))
                return handle_fallback(dispatcher, tracker)
            if intent == "bot_challenge":
                dispatcher.utter_message(response="utter_iamabot")
                return []
            dispatcher.utter_message(response="utter_out_of_scope")
            dispatcher.utter_message(response="utter_help")
            return []
        # The gap log and the rating keep the language the visitor asked in.
        ref = dataclasses.replace(answer_ref(answered, question_text(tracker)), language=language)
        send_answer(dispatcher, tracker, answered.reply, ref)
        if answered.decision.abstains:
            record_gap(ref)
        section = answered.reply.section_id
        return [SlotSet("last_section", section)] if section else []


class ActionAnswerInform(Action):
    """A message read as `inform` outside a form: an answer to a question nobody asked, which
    gets the rephrase prompt and the help menu. The assistant did not understand it, so it is
    logged for /staff/gaps as a fallback is (masked by the gap log); a button's payload carries
    no words of the visitor's and is not logged."""

    def name(self) -> str:
        return "action_answer_inform"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        question = question_text(tracker)
        if question.strip():
            language = conversation_language(tracker)
            record_gap(AnswerRef("fallback", (), None, language, question))
        dispatcher.utter_message(response="utter_please_rephrase")
        dispatcher.utter_message(response="utter_help")
        return []


class ActionShowSection(Action):
    """Shows the full text of the section last answered from."""

    def name(self) -> str:
        return "action_show_section"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        policy = load_policy()
        language = conversation_language(tracker)
        section_id: Optional[str] = tracker.get_slot("last_section")
        if not section_id or not policy.has_section(section_id):
            send(dispatcher, no_section_yet(language))
            return []
        send(dispatcher, full_section(policy, section_id, language))
        return []


class ActionAnswerYes(Action):
    """ "Yes" outside a form: to the offer of a person, a person; otherwise the help menu."""

    def name(self) -> str:
        return "action_answer_yes"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        if offered_person(tracker):
            return hand_over(dispatcher, tracker, "not_covered")
        dispatcher.utter_message(response="utter_help")
        return []
