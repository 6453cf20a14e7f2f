"""Withdrawing an open request from the chat: the form's validation, its two custom questions and
the last step. The flow's wording and order live in bot.conversation.withdrawal; the code is
checked by the request store and the withdrawal done by bot.requests.casework.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.digressions import unusable
from actions.forms import AskQuestion, ask_for_code, send_code
from actions.replies import language_of, latest_intent
from actions.store_access import services
from actions.submit import reference_in, reset
from bot.conversation import faults, flows, withdrawal
from bot.core import texts
from bot.requests import validators, verification


def found(reference: str | None, email: str | None) -> withdrawal.Found | None:
    """The request only when reference and address both match, like the status lookup."""
    answer = services().store.status_for(reference, email) if reference and email else None
    if answer is None:
        return None
    return withdrawal.Found(answer.reference, answer.kind, answer.status, answer.due_at)


class ValidateWithdrawForm(FormValidationAction):
    def name(self) -> str:
        return "validate_withdraw_form"

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        return withdrawal.required_slots(
            {slot: tracker.get_slot(slot) for slot in withdrawal.ALL_SLOTS}
        )

    async def validate_withdraw_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        try:
            return {"withdraw_reference": reference_in(tracker, value)}
        except validators.Invalid as problem:
            return self._unusable("withdraw_reference", str(problem), dispatcher, tracker)

    async def validate_withdraw_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """The address must be the request's, and the request still open: the same neutral
        reply as the status lookup when either does not match, so nothing leaks."""
        language = language_of(tracker)
        try:
            email = validators.email(str(value or ""), language)
        except validators.Invalid as problem:
            return self._unusable("withdraw_email", str(problem), dispatcher, tracker)
        request = found(tracker.get_slot("withdraw_reference"), email)
        if request is None:
            dispatcher.utter_message(text=texts.text("flow.status.not_found", language))
            return {"withdraw_email": email, "request_abandoned": True}
        if not request.is_open:
            dispatcher.utter_message(text=withdrawal.closed_reply(request, language))
            return {"withdraw_email": email, "request_abandoned": True}
        return {"withdraw_email": email}

    async def validate_withdraw_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        answer = flows.read_yes_no(str(value or ""), latest_intent(tracker))
        if answer is None:
            return self._unusable(
                "withdraw_confirm",
                texts.text("flow.withdraw.yes_or_no", language_of(tracker)),
                dispatcher,
                tracker,
            )
        return {"withdraw_confirm": answer}

    async def validate_withdraw_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        text, retried = str(value or ""), False
        failed = faults.failed_turn(tracker.events)
        if latest_intent(tracker) == faults.RETRY_INTENT and failed is not None:
            if not failed.unread:  # its answer was taken: the form asks for the code again
                return {"withdraw_code": None}
            # "Try again" after a failure: the code typed then, which the lost call may have
            # spent already (`verification.check_code`).
            text, retried = str(failed.message.get("text") or ""), True
        email = tracker.get_slot("withdraw_email")
        language = language_of(tracker)
        if flows.cannot_verify(text):  # without the code nothing is withdrawn here
            dispatcher.utter_message(text=texts.text("flow.withdraw.cannot_receive", language))
            return {"withdraw_code": None, "request_abandoned": True}
        if flows.wants_resend(text):
            if send_code(dispatcher, tracker, email):
                dispatcher.utter_message(text=texts.text("flow.code.resent", language))
            return {"withdraw_code": None}
        try:
            code = validators.verification_code(text, language)
        except validators.Invalid as problem:
            return self._unusable("withdraw_code", str(problem), dispatcher, tracker)
        result = services().store.check_code(email, tracker.sender_id, code, retried=retried)
        if result.ok:
            return {"withdraw_code": flows.VERIFIED}
        if result.outcome == verification.WRONG:
            dispatcher.utter_message(text=flows.wrong_code(result.attempts_left, language))
            return {"withdraw_code": None}
        if result.outcome in (verification.EXPIRED, verification.MISSING):
            if send_code(dispatcher, tracker, email):
                dispatcher.utter_message(text=texts.text("flow.code.expired", language))
            return {"withdraw_code": None}
        return {"withdraw_code": flows.UNVERIFIED}  # locked: the last step says so

    @staticmethod
    def _unusable(
        slot: str, problem: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[str, Any]:
        back = texts.text("flow.withdraw.back", language_of(tracker))
        return unusable(slot, problem, back, dispatcher, tracker)


class AskWithdrawReference(AskQuestion):
    slot = "withdraw_reference"


class AskWithdrawEmail(AskQuestion):
    slot = "withdraw_email"


class AskWithdrawConfirm(Action):
    """What withdrawing means for this request, and the explicit question."""

    def name(self) -> str:
        return "action_ask_withdraw_confirm"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        request = found(tracker.get_slot("withdraw_reference"), tracker.get_slot("withdraw_email"))
        language = language_of(tracker)
        if request is None:  # gone since the address was checked
            dispatcher.utter_message(text=texts.text("flow.status.not_found", language))
            return [SlotSet("request_abandoned", True)]
        dispatcher.utter_message(
            text=withdrawal.confirm_prompt(request, language),
            buttons=withdrawal.confirm_buttons(language),
        )
        return []


class AskWithdrawCode(Action):
    def name(self) -> str:
        return "action_ask_withdraw_code"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        ask_for_code(dispatcher, tracker, tracker.get_slot("withdraw_email"))
        return []


class ActionWithdrawRequest(Action):
    """The end of the flow: withdraws only after a yes and a code that matched."""

    def name(self) -> str:
        return "action_withdraw_request"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[str, Any]]:
        reference = tracker.get_slot("withdraw_reference")
        if tracker.get_slot("request_abandoned") or not reference:
            return reset(list(withdrawal.ALL_SLOTS))  # already explained
        confirmed = tracker.get_slot("withdraw_confirm")
        verified = tracker.get_slot("withdraw_code") == flows.VERIFIED
        withdrawn = bool(
            confirmed is True
            and verified
            and services().casework.withdraw(reference, tracker.get_slot("withdraw_email"))
        )
        dispatcher.utter_message(
            text=withdrawal.outcome(reference, confirmed, verified, withdrawn, language_of(tracker))
        )
        return reset(list(withdrawal.ALL_SLOTS))
