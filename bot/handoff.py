"""What the assistant says when a visitor asks for a person.

Live takeover by support is not built yet; until it is, the visitor is told so plainly and given
the one contact the policy publishes, rather than being promised a callback nobody will make.
"""

from __future__ import annotations

from bot.answers import Reply, contact_line
from bot.policy import Policy


def handoff_unavailable(policy: Policy) -> Reply:
    return Reply(
        text=(
            "I can't connect you to a person from this chat yet. You can reach the Legal department "
            f"by post, the only contact the policy gives: {contact_line(policy)}."
        )
    )
