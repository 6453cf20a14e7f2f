"""Form validation and the dynamic questions of the request forms (one validation action each).

The reading of answers lives in `bot.conversation.flows`; here the tracker's values go in and slot
values come out. Every slot is filled from the visitor's text, so that this one place decides
whether an answer is usable, a question about the policy to answer in passing, or a sign of a minor.
Everything said is in the conversation's language (`actions.replies.language_of`). The validation
action of each kind of request is made from bot.requests.registry below.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Type, cast

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.digressions import answer_digression, is_digression
from actions.replies import language_of, latest_intent, send
from actions.store_access import services
from actions.transcripts import transcript_of
from bot.conversation import faults, flows
from bot.conversation import handoff_replies as handoff
from bot.core import texts
from bot.policy.document import load_policy
from bot.requests import validators, verification
from bot.requests.ratelimit import RateLimited
from bot.requests.registry import KINDS, RequestKind

MAX_INVALID = 4  # after this many unusable answers to one question the form ends by itself


def slot_values(tracker: Tracker, flow: flows.Flow) -> Dict[str, Any]:
    return {slot: tracker.get_slot(slot) for slot in flow.slots}


def active_flow(tracker: Tracker) -> Optional[flows.Flow]:
    return flows.FLOW_BY_FORM.get((tracker.active_loop or {}).get("name") or "")


class RequestFormValidation(FormValidationAction, ABC):
    """Shared validation of the request forms; subclasses (made below, one per kind of request
    in the registry) only name their kind."""

    @property
    @abstractmethod
    def kind(self) -> str:
        """The request kind of the form (a key of `bot.conversation.flows.FLOWS`)."""

    def name(self) -> str:
        return f"validate_{flows.FLOWS[self.kind].form}"

    @property
    def flow(self) -> flows.Flow:
        return flows.FLOWS[self.kind]

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        if tracker.get_slot("request_abandoned"):
            return []
        values = slot_values(tracker, self.flow)
        return self.flow.required_slots(values)

    # -- the one place answers are read ---------------------------------------------------

    def _check(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[str, Any]:
        text = str(value or "")
        failed = faults.failed_turn(tracker.events)
        if latest_intent(tracker) == faults.RETRY_INTENT and failed is not None:
            if not failed.unread:  # its answer was taken: the form asks its question again
                return {slot: None}
            return self._retry(slot, failed.message, dispatcher, tracker)
        language = language_of(tracker)
        if slot != "confirm_request" and flows.is_stop(text):
            # "取消", "stop" read as an answer (NLU did not call it `stop`): the visitor gives up.
            dispatcher.utter_message(text=texts.text("flow.cancelled", language))
            return {slot: None, "invalid_attempts": None, "request_abandoned": True}
        events: Dict[str, Any] = self._note_minor(text, dispatcher, tracker)
        try:
            if slot in FREE_TEXT_SLOTS and is_digression(tracker, strict=False):
                raise validators.Invalid("a question, not an answer")
            events.update(self._read(slot, text, dispatcher, tracker))
        except validators.Invalid as problem:
            if is_digression(tracker, strict=slot not in FREE_TEXT_SLOTS):
                return {**events, **self._digression(slot, dispatcher, tracker)}
            events.update(self._invalid(slot, str(problem), dispatcher, tracker))
            return events
        if events.get(slot) is not None:
            events["invalid_attempts"] = None
        return events

    @staticmethod
    def _digression(
        slot: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[str, Any]:
        """A question instead of an answer: answered in passing, then the form asks again."""
        answer_digression(dispatcher, tracker)
        dispatcher.utter_message(text=texts.text("flow.back_to_request", language_of(tracker)))
        return {slot: None}

    def _retry(
        self,
        slot: str,
        failed: Mapping[str, Any],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
    ) -> Dict[str, Any]:
        """ "Try again" after an apology: read the answer that could not be processed."""
        intent = (failed.get("parse_data") or {}).get("intent", {}).get("name") or ""
        try:
            events = self._read(
                slot, str(failed.get("text") or ""), dispatcher, tracker, intent, retried=True
            )
        except validators.Invalid as problem:
            return self._invalid(slot, str(problem), dispatcher, tracker)
        if events.get(slot) is not None:
            events["invalid_attempts"] = None
        return events

    def _read(
        self,
        slot: str,
        text: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        intent: Optional[str] = None,
        retried: bool = False,
    ) -> Dict[str, Any]:
        """`retried`: the answer is read again by "try again" after a failure."""
        language = language_of(tracker)
        if slot == "confirm_request":
            answer = flows.read_yes_no(text, intent or latest_intent(tracker))
            if answer is None:
                raise validators.Invalid(texts.text("validation.yes_or_no", language))
            return {slot: answer}
        if slot == "verification_code":
            return self._read_code(text, dispatcher, tracker, retried)
        if slot == "correction_value":
            item = tracker.get_slot("correction_item") or "other"
            return {slot: validators.CORRECTABLE[item](text, language)}
        if slot == "request_reason":
            return {slot: flows.read_reason(self.kind, text, language)}
        return {slot: flows.SLOT_VALIDATORS[slot](text, language)}

    def _read_code(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, retried: bool = False
    ) -> Dict[str, Any]:
        """`retried`: the code the visitor typed before a failure, read again by "try again":
        the check Rasa gave up on may already have spent it, and it still proves the address
        (`verification.check_code`); no new code is sent for it."""
        email = tracker.get_slot("account_email")
        store = services().store
        language = language_of(tracker)
        if flows.cannot_verify(text):
            dispatcher.utter_message(text=texts.text("flow.code.cannot_receive", language))
            hand_over_verification(dispatcher, tracker, email=None)
            return {"verification_code": flows.UNVERIFIED}
        if flows.wants_resend(text):
            if send_code(dispatcher, tracker, email):
                dispatcher.utter_message(text=texts.text("flow.code.resent", language))
            return {"verification_code": None}
        code = validators.verification_code(text, language)
        result = store.check_code(email, tracker.sender_id, code, retried=retried)
        if result.ok:
            return {"verification_code": flows.VERIFIED}
        if result.outcome == verification.WRONG:
            dispatcher.utter_message(text=flows.wrong_code(result.attempts_left, language))
            return {"verification_code": None}
        if result.outcome in (verification.EXPIRED, verification.MISSING):
            if send_code(dispatcher, tracker, email):
                dispatcher.utter_message(text=texts.text("flow.code.expired", language))
            return {"verification_code": None}
        dispatcher.utter_message(text=texts.text("flow.code.locked", language))
        hand_over_verification(dispatcher, tracker, email=email)
        return {"verification_code": flows.UNVERIFIED}

    def _invalid(
        self, slot: str, problem: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[str, Any]:
        language = language_of(tracker)
        previous = tracker.get_slot("invalid_attempts") or ""
        name, _, count = previous.partition(":")
        attempts = (int(count) if name == slot and count.isdigit() else 0) + 1
        if attempts >= MAX_INVALID:
            dispatcher.utter_message(text=texts.text("flow.abandoned", language))
            return {slot: None, "invalid_attempts": None, "request_abandoned": True}
        if attempts >= 2:
            dispatcher.utter_message(
                text=flows.explain(slot, language),
                buttons=[texts.button("flow.stop_button", language)],
            )
        else:
            dispatcher.utter_message(text=problem)
        return {slot: None, "invalid_attempts": f"{slot}:{attempts}"}

    def _note_minor(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[str, Any]:
        role = flows.requester_role([text])
        if not role or tracker.get_slot("requester_role") == role:
            return {}
        dispatcher.utter_message(
            text=flows.guardian_notice(load_policy(), role, language_of(tracker))
        )
        return {"requester_role": role}


def send_code(dispatcher: CollectingDispatcher, tracker: Tracker, email: str) -> bool:
    """E-mail a code unless the address or the conversation has had too many lately."""
    try:
        services().store.send_code(email, tracker.sender_id, language=language_of(tracker))
    except RateLimited as limit:
        dispatcher.utter_message(text=flows.too_many_codes(limit.retry_after, language_of(tracker)))
        return False
    return True


def ask_for_code(dispatcher: CollectingDispatcher, tracker: Tracker, email: str) -> None:
    """Sends a code unless one is still valid for this address in this conversation (it proves
    the same thing), and asks for it."""
    if services().store.has_active_code(email, tracker.sender_id) or send_code(
        dispatcher, tracker, email
    ):
        dispatcher.utter_message(text=flows.code_sent_prompt(email, language_of(tracker)))


def hand_over_verification(
    dispatcher: CollectingDispatcher, tracker: Tracker, email: Optional[str]
) -> None:
    """Verification failed: a handoff ticket, so a person confirms the identity."""
    live = services().directory.support_online()
    language = language_of(tracker)
    services().handoffs.create(
        tracker.sender_id,
        "verification_failed",
        transcript_of(tracker),
        live=live,
        contact_email=email,
        language=language,
    )
    send(dispatcher, handoff.verification_handed_over(live, language))


FREE_TEXT_SLOTS = ("deletion_items", "access_items", "request_reason", "correction_note")
# A `validate_<slot>` method: (self, value, dispatcher, tracker, domain) -> the slots to set.
SlotValidator = Callable[..., Awaitable[Dict[str, Any]]]


def _slot_validator(slot: str) -> SlotValidator:
    async def validate(
        self: RequestFormValidation,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        return self._check(slot, value, dispatcher, tracker)

    validate.__name__ = f"validate_{slot}"
    return validate


# rasa_sdk calls `validate_<slot>` for each slot it validates; every slot of every flow goes
# through the same `_check`, so the methods are made here rather than written out eleven times.
for _slot in sorted({slot for flow in flows.FLOWS.values() for slot in flow.slots}):
    setattr(RequestFormValidation, f"validate_{_slot}", _slot_validator(_slot))


def class_name(kind: str) -> str:
    """`access` -> `Access`, `withdraw_consent` -> `WithdrawConsent`."""
    return "".join(part.title() for part in kind.split("_"))


def _form_validation(request: RequestKind) -> Type[RequestFormValidation]:
    """The `validate_<kind>_form` action of one kind of request."""
    return cast(
        Type[RequestFormValidation],
        type(
            f"Validate{class_name(request.kind)}Form",
            (RequestFormValidation,),
            {
                "kind": request.kind,
                "__module__": __name__,
                "__doc__": f"Validates `{request.form}` (made from bot.requests.registry).",
            },
        ),
    )


# One class per kind, bound to a module-level name (ValidateDeletionForm, ...): rasa_sdk finds
# actions among Action's subclasses, and the tests import them by name.
FORM_VALIDATIONS: Dict[str, Type[RequestFormValidation]] = {}
for _request in KINDS:
    FORM_VALIDATIONS[_request.kind] = _form_validation(_request)
    globals()[FORM_VALIDATIONS[_request.kind].__name__] = FORM_VALIDATIONS[_request.kind]


# -- questions whose wording depends on the conversation ---------------------------------------


class ActionAskAccountEmail(Action):
    """Opens each flow with the policy's words on the right, then asks for the address."""

    def name(self) -> str:
        return "action_ask_account_email"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        flow = active_flow(tracker)
        language = language_of(tracker)
        events = []
        if flow and not tracker.get_slot("intro_shown"):
            dispatcher.utter_message(text=flows.intro(load_policy(), flow.kind, language))
            events.append(SlotSet("intro_shown", True))
            role = flows.requester_role([(tracker.latest_message or {}).get("text") or ""])
            if role and tracker.get_slot("requester_role") != role:
                dispatcher.utter_message(text=flows.guardian_notice(load_policy(), role, language))
                events.append(SlotSet("requester_role", role))
        dispatcher.utter_message(
            text=flows.account_email_question(flow.kind if flow else None, language)
        )
        return events


class ActionAskCorrectionValue(Action):
    def name(self) -> str:
        return "action_ask_correction_value"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        item = tracker.get_slot("correction_item") or "other"
        language = language_of(tracker)
        if item == "other":
            dispatcher.utter_message(text=texts.text("flow.ask_correction_value.other", language))
        else:
            dispatcher.utter_message(
                text=texts.text(
                    "flow.ask_correction_value.item",
                    language,
                    label=flows.correction_label(item, language),
                )
            )
        return []


class ActionAskConfirmRequest(Action):
    """The summary and the explicit question before anything is stored."""

    def name(self) -> str:
        return "action_ask_confirm_request"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        flow = active_flow(tracker)
        if flow is None:
            return []
        language = language_of(tracker)
        text = flows.confirmation_prompt(
            flow.kind, slot_values(tracker, flow), tracker.get_slot("requester_role"), language
        )
        dispatcher.utter_message(text=text, buttons=flows.confirmation_buttons(language))
        return []


class ActionAskVerificationCode(Action):
    """Sends a code (unless one is still valid) and asks for it."""

    def name(self) -> str:
        return "action_ask_verification_code"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        ask_for_code(dispatcher, tracker, tracker.get_slot("account_email"))
        return []


class AskQuestion(Action, ABC):
    """Asks one of the fixed questions of `bot.conversation.flows.question`."""

    @property
    @abstractmethod
    def slot(self) -> str:
        """The slot this question asks for."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        flow = active_flow(tracker)
        text, buttons = flows.question(self.slot, flow.kind if flow else None, language_of(tracker))
        dispatcher.utter_message(
            text=text, buttons=[{"title": t, "payload": p} for t, p in buttons]
        )
        return []


class AskDeletionScope(AskQuestion):
    slot = "deletion_scope"


class AskDeletionItems(AskQuestion):
    slot = "deletion_items"


class AskRequestReason(AskQuestion):
    """Optional for a deletion, required (and explained) for a suspension: see
    `bot.conversation.flows.question`."""

    slot = "request_reason"


class AskCorrectionItem(AskQuestion):
    slot = "correction_item"


class AskCorrectionNote(AskQuestion):
    slot = "correction_note"


class AskAccessScope(AskQuestion):
    slot = "access_scope"


class AskAccessItems(AskQuestion):
    slot = "access_items"


class AskComplaintDetails(AskQuestion):
    slot = "complaint_details"


class AskComplaintAbout(AskQuestion):
    slot = "complaint_about"


class AskStatusReference(AskQuestion):
    slot = "status_reference"


class AskStatusEmail(AskQuestion):
    slot = "status_email"
