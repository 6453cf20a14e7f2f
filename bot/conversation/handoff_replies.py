"""What the assistant says when it hands a visitor to a person."""

from __future__ import annotations

from bot.policy.answers import Reply, contact_line
from bot.policy.document import Policy

WHY = {
    "asked": "",
    "fallback": "I'm having trouble understanding, so let me get a person to help. ",
    "verification_failed": "Since the code couldn't be confirmed, a person will help you. ",
    "not_covered": "",
}


def handing_over(reason: str) -> Reply:
    """Support is online: a person will join this chat."""
    return Reply(text=(
        f"{WHY.get(reason, '')}I've asked our support team to join this conversation. A member "
        "of the team will reply here shortly; until then, anything you write goes to them."))


def nobody_online(reason: str) -> Reply:
    """Nobody from support is online: the ticket waits, and the reply will come by e-mail."""
    return Reply(text=(
        f"{WHY.get(reason, '')}No one from our support team is online right now, so I've passed "
        "on our conversation so far and they will answer by e-mail."))


ASK_EMAIL = ("What e-mail address can they reply to? (Say \u201cskip\u201d if you'd rather not "
             "leave one.)")


def verification_handed_over(live: bool) -> Reply:
    """The code could not be confirmed: a person takes over, in the chat or by e-mail."""
    if live:
        return Reply(text=("I've also asked our support team to join this conversation to help "
                           "confirm your identity; a member of the team will reply here."))
    return Reply(text=("Our support team will also contact you at the account's e-mail address "
                       "to confirm your identity."))


def will_email(email_masked: str) -> Reply:
    return Reply(text=(f"Thank you. Our support team will reply to {email_masked} as soon as "
                       "someone is available. Meanwhile, I'm still here for questions about "
                       "the privacy policy."))


def no_email(policy: Policy) -> Reply:
    return Reply(text=("All right. Our team can see the conversation, but without an address "
                       "they can't reply. You can also write to the Legal department, the only "
                       f"contact the policy gives: {contact_line(policy)}."))
