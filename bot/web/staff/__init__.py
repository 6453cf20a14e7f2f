"""The staff side of the web app: login, the legal department's queue, the policy gaps and
support handoffs, one module each; what they share (services, sessions, CSRF, the guard, page
and CSV output) is in `common`.

Every route except login and logout goes through `common.guarded`, which refuses anyone not
logged in (a redirect to the login page for pages, 401 for JSON and CSV) and anyone whose role
lacks the permission (403). Every state-changing request is a POST carrying the session's CSRF
token.
"""

from __future__ import annotations

from typing import List

from starlette.routing import Route

from bot.services import Services
from bot.web.staff import auth, casework, gaps, handoffs, requests, tasks
from bot.web.staff.common import (
    FORMULA_STARTS,
    PUBLIC_STAFF_PATHS,
    SESSION_LIFETIME,
    spreadsheet_safe,
)
from bot.web.staff.gaps import GAP_COLUMNS

__all__ = [
    "FORMULA_STARTS",
    "GAP_COLUMNS",
    "PUBLIC_STAFF_PATHS",
    "SESSION_LIFETIME",
    "routes",
    "spreadsheet_safe",
]


def routes(services: Services) -> List[Route]:
    """Every staff route, in the order Starlette tries them."""
    return [
        *auth.routes(services),
        *requests.routes(services),
        *casework.routes(services),
        *tasks.routes(services),
        *gaps.routes(services),
        *handoffs.routes(services),
    ]
