"""Staff accounts for the web tests: an account enrolled in two-factor sign-in (as every admin
must be), and the codes its logins use.

Each login uses one of the account's recovery codes: a TOTP code works once per 30-second step,
and a test may log the same account in more than once. Each test works on its own copy of the
database, so the codes are counted per app (one app per test), from the first.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from bot.staff import totp
from bot.staff.accounts import StaffDirectory


def enrol(directory: StaffDirectory, username: str) -> List[str]:
    """Turn two-factor sign-in on for the account (APP_SECRET must be set, and stay the same
    while it is used); its recovery codes."""
    enrolment = directory.begin_two_factor(username)
    earlier = time.time() - 30  # the first code from the step before, so "now" is free
    codes = directory.confirm_two_factor(
        username, totp.code_at(enrolment.secret, earlier), "cli", moment=earlier
    )
    assert codes is not None
    return codes


class SecondFactors:
    """The recovery codes of the enrolled accounts, one per login of an app."""

    def __init__(self) -> None:
        self.codes: Dict[str, List[str]] = {}

    def next_code(self, app: Any, username: str) -> Optional[str]:
        if username not in self.codes:
            return None
        state = app.state
        used: Dict[str, int] = getattr(state, "recovery_codes_used", None) or {}
        index = used.get(username, 0)
        used[username] = index + 1
        state.recovery_codes_used = used
        return self.codes[username][index]


def add_members(
    directory: StaffDirectory,
    accounts: Any,
    password: str,
    secret: str,
    factors: SecondFactors,
    enrolled: Any = ("ada",),
    disabled: Any = (),
) -> None:
    """The (username, role) accounts, two-factor sign-in for those `enrolled`, and those
    `disabled` turned off, all under
    APP_SECRET=`secret` (it seals the TOTP secrets and keys the audit chain the accounts start);
    their recovery codes go to `factors`."""
    from bot.core.settings import load_settings

    previous = os.environ.get("APP_SECRET")
    os.environ["APP_SECRET"] = secret
    load_settings.cache_clear()
    try:
        for name, role in accounts:
            directory.add(name, role, password)
        for name in enrolled:
            factors.codes[name] = enrol(directory, name)
        for name in disabled:
            directory.disable(name)
    finally:
        if previous is None:
            os.environ.pop("APP_SECRET", None)
        else:
            os.environ["APP_SECRET"] = previous
        load_settings.cache_clear()


def csrf_of(html: str) -> str:
    """The CSRF token of a staff page's form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def client(app: Any, address: Optional[str] = None) -> Any:
    """A test client of `app`; with `address`, its requests come from that client address
    (what the audit log and the login throttle see) instead of the test client's own."""
    from starlette.testclient import TestClient

    if address is None:
        return TestClient(app, follow_redirects=False)

    async def from_address(scope: Any, receive: Any, send: Any) -> None:
        await app({**scope, "client": (address, 50000)}, receive, send)

    return TestClient(from_address, follow_redirects=False)


def log_in(
    app: Any,
    username: str,
    password: str,
    factors: SecondFactors,
    code: Optional[str] = None,
    address: Optional[str] = None,
) -> Tuple[Any, Any]:
    """A fresh client (from `address`, if given) signing in through the login form (with the
    account's next recovery code where it has two-factor sign-in, unless `code` is given): the
    client and the response."""
    c = client(app, address)
    data = {
        "username": username,
        "password": password,
        "next": "/staff/",
        "csrf_token": csrf_of(c.get("/staff/login").text),
    }
    code = code or factors.next_code(app, username)
    if code:
        data["code"] = code
    return c, c.post("/staff/login", data=data)


def logged_in(app: Any, username: str, password: str, factors: SecondFactors) -> Any:
    """A client signed in (the login must succeed)."""
    c, response = log_in(app, username, password, factors)
    assert response.status_code == 303, response.text
    return c


def staff_app(services: Any) -> Any:
    """The web app over `services`, with no Rasa behind it (the staff pages need none)."""
    from dataclasses import replace

    from bot.core.settings import load_settings
    from bot.web.app import create_app

    settings = replace(load_settings(), rasa_url="http://rasa.invalid")
    return create_app(settings, services=services, session_secret="test-secret")


def seeded_database(
    template: Any, folder: Any, add: Callable[[Any], None], secret: str = "s"
) -> Any:
    """A copy of the migrated SQLite `template` in `folder` with what `add(services)` makes
    (the staff accounts), for a module to copy for each test: each scrypt hash takes ~0.1 s,
    so the accounts are made once per module."""
    from bot.requests.store import RequestStore
    from bot.services import Services
    from bot.storage.db import make_engine
    from tests.support.databases import copy_sqlite

    path = folder / "staff.db"
    services = Services(RequestStore(make_engine(copy_sqlite(template, path)), secret=secret))
    add(services)
    services.store.engine.dispose()
    return path


def desk_services(
    database_url: str, staff_database: Any, folder: Any, secret: str, add: Callable[[Any], None]
) -> Any:
    """The desk's services for one test: on SQLite a copy of the module's database with its
    accounts (`staff_database`), on PostgreSQL the empty database of `database_url` with the
    accounts `add` makes. The caller disposes of `services.store.engine`."""
    from bot.requests.store import RequestStore
    from bot.services import Services
    from bot.storage.db import make_engine
    from tests.support.databases import copy_sqlite

    fresh = not database_url.startswith("sqlite")
    url = database_url if fresh else copy_sqlite(staff_database, folder / "desk.db")
    services = Services(RequestStore(make_engine(url), secret=secret))
    if fresh:
        add(services)
    return services
