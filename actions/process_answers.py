"""Questions about how requests are handled here: the assistant's own facts, in the
conversation's language (bot.conversation.process_answers)."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import language_of, question_text, send
from bot.conversation import process_answers


class ActionAnswerProcess(Action):
    """`ask_process`: the fact the question asks for, or the overview of the whole process (a
    button's payload carries no question)."""

    def name(self) -> str:
        return "action_answer_process"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        send(dispatcher, process_answers.reply_to(question_text(tracker), language_of(tracker)))
        return []
