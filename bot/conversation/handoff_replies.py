"""What the assistant says when it hands a visitor to a person (texts: `handoff.*`)."""

from __future__ import annotations

from bot.core.texts import button, text
from bot.policy.answers import Reply, contact_line
from bot.policy.document import Policy
from bot.support.tickets import REASONS


def why(reason: str) -> str:
    """What opens the reply for this reason for a handoff (with its own trailing space), or
    nothing for a reason that is not one of the tickets'."""
    return text(f"handoff.why.{reason}") if reason in REASONS else ""


def handing_over(reason: str) -> Reply:
    """Support is online: a person will join this chat."""
    return Reply(text=text("handoff.handing_over", why=why(reason)))


def nobody_online(reason: str) -> Reply:
    """Nobody from support is online: the ticket waits, and the reply will come by e-mail."""
    return Reply(text=text("handoff.nobody_online", why=why(reason)))


def ask_email() -> Reply:
    """Nobody is online: an address to reply to, which the visitor may skip."""
    return Reply(text=text("handoff.ask_email"), buttons=(button("handoff.skip_button"),))


def verification_handed_over(live: bool) -> Reply:
    """The code could not be confirmed: a person takes over, in the chat or by e-mail."""
    return Reply(text=text("handoff.verification.live" if live
                           else "handoff.verification.by_email"))


def will_email(email_masked: str) -> Reply:
    return Reply(text=text("handoff.will_email", email=email_masked))


def no_email(policy: Policy) -> Reply:
    return Reply(text=text("handoff.no_email", contact=contact_line(policy)))


def during_request() -> Reply:
    """A person asked for in the middle of a request form: after it, or "stop" now."""
    return Reply(text=text("handoff.during_request"))
