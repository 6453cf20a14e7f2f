"""Storing a confirmed request, cancelling one, and looking up a request's status."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.store_access import get_store
from actions.transcripts import transcript_of
from bot import flows, validators
from bot.policy import load_policy

log = logging.getLogger(__name__)

# Everything a flow leaves in the conversation; cleared once the flow ends either way.
FLOW_SLOTS = sorted({slot for flow in flows.FLOWS.values() for slot in flow.slots}
                    | {"requester_role", "invalid_attempts", "intro_shown", "request_abandoned"})
STATUS_SLOTS = ["status_reference", "status_email"]


def reset(slots: List[str]) -> List[Dict[Text, Any]]:
    return [SlotSet(slot, None) for slot in slots]


def user_texts_since_form_start(tracker: Tracker, form: str) -> List[str]:
    """What the visitor wrote since the form began (the opening line included)."""
    texts: List[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            texts.append(event.get("text") or "")
        if event.get("event") == "active_loop" and event.get("name") == form:
            # the opening line is the user event just before the activation
            for earlier in reversed(tracker.events[: tracker.events.index(event)]):
                if earlier.get("event") == "user":
                    texts.append(earlier.get("text") or "")
                    break
            break
    return list(reversed(texts))


class SubmitRequest(Action, ABC):
    @property
    @abstractmethod
    def kind(self) -> str:
        """The request kind this action stores."""

    def name(self) -> Text:
        return f"action_submit_{self.kind}"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: DomainDict) -> List[Dict[Text, Any]]:
        flow = flows.FLOWS[self.kind]
        values = {slot: tracker.get_slot(slot) for slot in flow.slots}
        if tracker.get_slot("request_abandoned"):
            return reset(FLOW_SLOTS)
        if values.get("confirm_request") is not True:
            dispatcher.utter_message(text="All right, I've stopped. Nothing was stored.")
            return reset(FLOW_SLOTS)
        role = tracker.get_slot("requester_role") or flows.requester_role(
            user_texts_since_form_start(tracker, flow.form))
        message_id = (tracker.latest_message or {}).get("message_id") or ""
        store = get_store()
        try:
            result = store.submit(
                self.kind, values["account_email"],
                details=flows.details_for(self.kind, values),
                reason=flows.reason_for(self.kind, values),
                verified=values.get("verification_code") == flows.VERIFIED,
                requester_role=role or "self",
                channel=(tracker.get_latest_input_channel() or "chat"),
                conversation_id=tracker.sender_id,
                idempotency_key=f"{tracker.sender_id}:{self.kind}:{message_id}",
                transcript=transcript_of(tracker),
            )
        except SQLAlchemyError as error:
            log.error("Could not store a %s request: %s", self.kind, type(error).__name__)
            dispatcher.utter_message(text=(
                "I'm sorry, I couldn't save your request just now because of a problem on our "
                "side. Nothing was lost: please try again in a few minutes."))
            return reset(FLOW_SLOTS)
        dispatcher.utter_message(text=flows.submitted_message(
            load_policy(), self.kind, result.reference, result.due_at, result.status,
            result.duplicate, store.working_days))
        # The address and new values now live in the request database only.
        return reset(FLOW_SLOTS) + [SlotSet("last_reference", result.reference)]


class SubmitDeletion(SubmitRequest):
    kind = "deletion"


class SubmitCorrection(SubmitRequest):
    kind = "correction"


class SubmitSuspension(SubmitRequest):
    kind = "suspension"


class SubmitAccess(SubmitRequest):
    kind = "access"


class SubmitUnsubscribe(SubmitRequest):
    kind = "unsubscribe"


class ActionCancelRequest(Action):
    """"Stop" during any flow: nothing is stored and the flow's answers are forgotten."""

    def name(self) -> Text:
        return "action_cancel_request"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: DomainDict) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text="Stopped. Nothing was stored. Is there anything else I "
                                      "can help with?")
        return reset(FLOW_SLOTS + STATUS_SLOTS)


class ValidateStatusForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_status_form"

    async def validate_status_reference(self, value, dispatcher, tracker,  # noqa: ANN001
                                        domain):
        entities = [e.get("value") for e in (tracker.latest_message or {}).get("entities", [])
                    if e.get("entity") == "reference"]
        for candidate in entities + [str(value or "")]:
            try:
                return {"status_reference": validators.reference(candidate)}
            except validators.Invalid as problem:
                error = str(problem)
        dispatcher.utter_message(text=error)
        return {"status_reference": None}

    async def validate_status_email(self, value, dispatcher, tracker, domain):  # noqa: ANN001
        try:
            return {"status_email": validators.email(str(value or ""))}
        except validators.Invalid as problem:
            dispatcher.utter_message(text=str(problem))
            return {"status_email": None}


class ActionCheckStatus(Action):
    """Answers only when reference and e-mail match; otherwise the same neutral reply."""

    def name(self) -> Text:
        return "action_check_status"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: DomainDict) -> List[Dict[Text, Any]]:
        reference = tracker.get_slot("status_reference")
        email = tracker.get_slot("status_email")
        answer = get_store().status_for(reference, email) if reference and email else None
        if answer is None:
            dispatcher.utter_message(text=(
                "I couldn't find a request with that reference for that e-mail address. Please "
                "check both and try again."))
        else:
            status = answer.status.replace("_", " ")
            dispatcher.utter_message(text=(
                f"Request {answer.reference} ({answer.kind}) is {status}. It is due by "
                f"{answer.due_at.strftime('%d %B %Y')}."))
        return reset(STATUS_SLOTS)
