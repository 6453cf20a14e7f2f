"""Request intents, answered with what the policy says about that right until the flows exist."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import latest_intent, send
from bot.answers import contact_line
from bot.policy import load_policy
from bot.rights import RIGHTS, explain_right


class ActionExplainRight(Action):
    def name(self) -> Text:
        return "action_explain_right"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        policy = load_policy()
        intent = latest_intent(tracker)
        if intent in RIGHTS:
            send(dispatcher, explain_right(policy, intent))
        else:
            dispatcher.utter_message(
                text="No request has been made through this chat yet, so there is no status to "
                "look up. For a request made another way, please write to the Legal department: "
                f"{contact_line(policy)}."
            )
        return []
