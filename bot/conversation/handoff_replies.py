"""What the assistant says when it hands a visitor to a person (texts: `handoff.*`), in the
conversation's language."""

from __future__ import annotations

from bot.core.texts import DEFAULT_LANGUAGE, button, text
from bot.policy.answers import Reply, contact_line
from bot.policy.document import Policy
from bot.support.tickets import REASONS


def why(reason: str, language: str = DEFAULT_LANGUAGE) -> str:
    """What opens the reply for this reason for a handoff (with its own trailing space), or
    nothing for a reason that is not one of the tickets'."""
    return text(f"handoff.why.{reason}", language) if reason in REASONS else ""


def handing_over(reason: str, language: str = DEFAULT_LANGUAGE) -> Reply:
    """Support is online: a person will join this chat."""
    return Reply(text=text("handoff.handing_over", language, why=why(reason, language)))


def nobody_online(reason: str, language: str = DEFAULT_LANGUAGE) -> Reply:
    """Nobody from support is online: the ticket waits, and the reply will come by e-mail."""
    return Reply(text=text("handoff.nobody_online", language, why=why(reason, language)))


def ask_email(language: str = DEFAULT_LANGUAGE) -> Reply:
    """Nobody is online: an address to reply to, which the visitor may skip."""
    return Reply(
        text=text("handoff.ask_email", language), buttons=(button("handoff.skip_button", language),)
    )


def verification_handed_over(live: bool, language: str = DEFAULT_LANGUAGE) -> Reply:
    """The code could not be confirmed: a person takes over, in the chat or by e-mail."""
    return Reply(
        text=text(
            "handoff.verification.live" if live else "handoff.verification.by_email", language
        )
    )


def will_email(email_masked: str, language: str = DEFAULT_LANGUAGE) -> Reply:
    return Reply(text=text("handoff.will_email", language, email=email_masked))


def no_email(policy: Policy, language: str = DEFAULT_LANGUAGE) -> Reply:
    return Reply(text=text("handoff.no_email", language, contact=contact_line(policy, language)))


def during_request(language: str = DEFAULT_LANGUAGE) -> Reply:
    """A person asked for in the middle of a request form: after it, or "stop" now."""
    return Reply(text=text("handoff.during_request", language))
