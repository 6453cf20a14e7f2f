"""Storing a confirmed request, cancelling one, and looking up a request's status.

The submit action of each kind of request is made from bot.requests.registry below. Replies are
in the conversation's language, and a request is stored with it, so that its e-mails are too.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Type, cast

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.digressions import unusable
from actions.forms import class_name
from actions.replies import language_of
from actions.store_access import services
from actions.transcripts import transcript_of
from bot.conversation import faults, flows, withdrawal
from bot.core import texts
from bot.policy.document import load_policy
from bot.requests import validators
from bot.requests.ratelimit import RateLimited
from bot.requests.registry import BY_KIND, KINDS, RequestKind

log = logging.getLogger(__name__)

# Everything a flow leaves in the conversation; cleared once the flow ends either way.
FLOW_SLOTS = sorted(
    {slot for flow in flows.FLOWS.values() for slot in flow.slots}
    | {
        "requester_role",
        "invalid_attempts",
        "intro_shown",
        "request_abandoned",
        faults.PENDING_SLOT,
    }
)
STATUS_SLOTS = ["status_reference", "status_email"]


def reset(slots: List[str]) -> List[Dict[str, Any]]:
    return [SlotSet(slot, None) for slot in slots]


def _activation_index(tracker: Tracker, form: str) -> Optional[int]:
    """Where in the events the latest run of `form` started."""
    for index in range(len(tracker.events) - 1, -1, -1):
        event = tracker.events[index]
        if event.get("event") == "active_loop" and event.get("name") == form:
            return index
    return None


def latest_form(tracker: Tracker) -> Optional[str]:
    """The form that ran last (the one a "stop" just ended)."""
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name"):
            return str(event["name"])
    return None


def form_activation(tracker: Tracker, form: str) -> Optional[Dict[str, Any]]:
    """The event that started the latest run of `form`."""
    index = _activation_index(tracker, form)
    return None if index is None else tracker.events[index]


def user_texts_since_form_start(tracker: Tracker, form: str) -> List[str]:
    """What the visitor wrote since the form began (the opening line included)."""
    index = _activation_index(tracker, form)
    if index is None:
        return []
    opening = [e.get("text") or "" for e in tracker.events[:index] if e.get("event") == "user"]
    later = [e.get("text") or "" for e in tracker.events[index:] if e.get("event") == "user"]
    return opening[-1:] + later


def idempotency_key(tracker: Tracker, kind: str) -> str:
    """One key per run of a form: a retried or repeated submit of the same answers finds the
    row the first attempt stored, even when that attempt's reply never reached Rasa."""
    start = form_activation(tracker, flows.FLOWS[kind].form) or {}
    run = start.get("timestamp") or (tracker.latest_message or {}).get("message_id") or ""
    return f"{tracker.sender_id}:{kind}:{run}"


def not_saved(
    dispatcher: CollectingDispatcher, kind: str, text: str, language: str = texts.DEFAULT_LANGUAGE
) -> List[Dict[str, Any]]:
    """The answers stay in their slots; `pending_submission` lets "try again" store them."""
    dispatcher.utter_message(
        text=text,
        buttons=[faults.retry_button(language)],
        **faults.failure_metadata(BY_KIND[kind].submit_action),
    )
    return [SlotSet(slot, value) for slot, value in faults.pending_slots(kind).items()]


def store_request(
    kind: str, dispatcher: CollectingDispatcher, tracker: Tracker
) -> List[Dict[str, Any]]:
    """Store the confirmed answers of a `kind` flow, or keep them for "try again"."""
    flow = flows.FLOWS[kind]
    values = {slot: tracker.get_slot(slot) for slot in flow.slots}
    role = tracker.get_slot("requester_role") or flows.requester_role(
        user_texts_since_form_start(tracker, flow.form)
    )
    store = services().store
    language = language_of(tracker)
    try:
        result = store.submit(
            kind,
            values["account_email"],
            details=flows.details_for(kind, values),
            reason=flows.reason_for(kind, values),
            verified=values.get("verification_code") == flows.VERIFIED,
            requester_role=role or "self",
            channel=(tracker.get_latest_input_channel() or "chat"),
            conversation_id=tracker.sender_id,
            idempotency_key=idempotency_key(tracker, kind),
            transcript=transcript_of(tracker),
            language=language,
        )
    except RateLimited as limit:
        dispatcher.utter_message(text=flows.too_many_requests(limit.retry_after, language))
        return reset(FLOW_SLOTS)
    except SQLAlchemyError as error:
        log.error("Could not store a %s request: %s", kind, type(error).__name__)
        return not_saved(dispatcher, kind, faults.not_saved(language), language)
    dispatcher.utter_message(
        text=flows.submitted_message(
            load_policy(),
            kind,
            result.reference,
            result.due_at,
            result.status,
            result.duplicate,
            store.working_days,
            language,
        )
    )
    # The address and new values now live in the request database only.
    return reset(FLOW_SLOTS) + [SlotSet("last_reference", result.reference)]


class SubmitRequest(Action, ABC):
    """Stores a confirmed request of one kind; subclasses (made below, one per kind of request
    in the registry) only name their kind."""

    @property
    @abstractmethod
    def kind(self) -> str:
        """The request kind this action stores."""

    def name(self) -> str:
        return BY_KIND[self.kind].submit_action

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        if tracker.get_slot("request_abandoned"):
            return reset(FLOW_SLOTS)
        if tracker.get_slot("confirm_request") is not True:
            dispatcher.utter_message(text=texts.text("flow.stopped", language_of(tracker)))
            return reset(FLOW_SLOTS)
        return store_request(self.kind, dispatcher, tracker)


class ActionRetry(Action):
    """ "Try again" after a failure: store the request that could not be stored. (Inside a
    form, the form's validation reads "try again" instead: see `actions.forms`.)"""

    def name(self) -> str:
        return "action_retry"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        kind = tracker.get_slot(faults.PENDING_SLOT)
        if kind in flows.FLOWS and tracker.get_slot("account_email"):
            return store_request(kind, dispatcher, tracker)
        dispatcher.utter_message(text=faults.nothing_to_retry(tracker.events, language_of(tracker)))
        return [SlotSet(faults.PENDING_SLOT, None)]


def _submit_action(request: RequestKind) -> Type[SubmitRequest]:
    """The `action_submit_<kind>` action of one kind of request."""
    return cast(
        Type[SubmitRequest],
        type(
            f"Submit{class_name(request.kind)}",
            (SubmitRequest,),
            {
                "kind": request.kind,
                "__module__": __name__,
                "__doc__": f"Stores a confirmed {request.kind} request (made from "
                "bot.requests.registry).",
            },
        ),
    )


# One class per kind, bound to a module-level name (SubmitDeletion, ...): rasa_sdk finds actions
# among Action's subclasses, and the tests import them by name.
SUBMIT_ACTIONS: Dict[str, Type[SubmitRequest]] = {}
for _request in KINDS:
    SUBMIT_ACTIONS[_request.kind] = _submit_action(_request)
    globals()[SUBMIT_ACTIONS[_request.kind].__name__] = SUBMIT_ACTIONS[_request.kind]


class ActionCancelRequest(Action):
    """ "Stop" during any flow, or after a request could not be saved: nothing is stored and the
    answers are forgotten, so a later "try again" cannot store what the visitor gave up."""

    def name(self) -> str:
        return "action_cancel_request"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        language = language_of(tracker)
        if tracker.get_slot(faults.PENDING_SLOT):
            dispatcher.utter_message(text=faults.dropped(language))
        elif tracker.latest_action_name == "action_deactivate_loop":
            stopped = latest_form(tracker) == withdrawal.FORM  # nothing was to be stored there
            dispatcher.utter_message(
                text=texts.text("flow.withdraw.stopped" if stopped else "flow.cancelled", language)
            )
        else:  # nothing going on
            dispatcher.utter_message(response="utter_anything_else")
        return reset(FLOW_SLOTS + STATUS_SLOTS + list(withdrawal.SLOTS))


def reference_in(tracker: Tracker, value: Any) -> str:
    """The reference the visitor gave: the entity NLU found, else the slot's text;
    `validators.Invalid` (with the reason, in the conversation's language) when neither is one."""
    entities = [
        e.get("value")
        for e in (tracker.latest_message or {}).get("entities", [])
        if e.get("entity") == "reference"
    ]
    language = language_of(tracker)
    problem = validators.Invalid(texts.text("validation.reference", language))
    for candidate in entities + [str(value or "")]:
        try:
            return validators.reference(str(candidate or ""), language)
        except validators.Invalid as invalid:
            problem = invalid
    raise problem


class ValidateStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_status_form"

    async def validate_status_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        try:
            return {"status_reference": reference_in(tracker, value)}
        except validators.Invalid as problem:
            return self._unusable("status_reference", str(problem), dispatcher, tracker)

    async def validate_status_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        try:
            return {"status_email": validators.email(str(value or ""), language_of(tracker))}
        except validators.Invalid as problem:
            return self._unusable("status_email", str(problem), dispatcher, tracker)

    @staticmethod
    def _unusable(
        slot: str, problem: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[str, Any]:
        back = texts.text("flow.back_to_status", language_of(tracker))
        return unusable(slot, problem, back, dispatcher, tracker)


class ActionCheckStatus(Action):
    """Answers only when reference and e-mail match; otherwise the same neutral reply. What the
    legal department wrote to the requester follows the status (issue 13: shown when the
    requester looks the request up)."""

    def name(self) -> str:
        return "action_check_status"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        reference = tracker.get_slot("status_reference")
        email = tracker.get_slot("status_email")
        answer = services().store.status_for(reference, email) if reference and email else None
        language = language_of(tracker)
        if answer is None:
            dispatcher.utter_message(text=texts.text("flow.status.not_found", language))
        else:
            reply = flows.status_reply(
                answer.reference, answer.kind, answer.status, answer.due_at, language, answer.tasks
            )
            written = withdrawal.messages_block(
                services().casework.messages_for(answer.reference, email), language
            )
            dispatcher.utter_message(text=f"{reply}\n\n{written}" if written else reply)
        return reset(STATUS_SLOTS)
