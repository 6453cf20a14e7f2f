"""Staff accounts for the web tests: an account enrolled in two-factor sign-in (as every admin
must be), and the codes its logins use.

Each login uses one of the account's recovery codes: a TOTP code works once per 30-second step,
and a test may log the same account in more than once. Each test works on its own copy of the
database, so the codes are counted per app (one app per test), from the first.
"""

from __future__ import annotations

import os
import time
from typing import Any, Dict, List, Optional

from bot.staff import totp
from bot.staff.accounts import StaffDirectory


def enrol(directory: StaffDirectory, username: str) -> List[str]:
    """Turn two-factor sign-in on for the account (APP_SECRET must be set, and stay the same
    while it is used); its recovery codes."""
    enrolment = directory.begin_two_factor(username)
    earlier = time.time() - 30  # the first code from the step before, so "now" is free
    codes = directory.confirm_two_factor(username, totp.code_at(enrolment.secret, earlier),
                                         "cli", moment=earlier)
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


def add_members(directory: StaffDirectory, accounts: Any, password: str, secret: str,
                factors: SecondFactors, enrolled: Any = ("ada",), disabled: Any = ()) -> None:
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
