"""Two-factor sign-in (bot.staff.two_factor, StaffDirectory.sign_in), on SQLite and PostgreSQL:
enrolment with a first code, sign-in that needs the code, codes used once, recovery codes,
wrong codes counting toward the login limits, admins made to enrol, and the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from bot.core.paths import ROOT
from bot.staff import accounts, totp
from bot.staff.accounts import StaffDirectory, StaffError
from bot.storage.db import make_engine, transaction
from bot.storage.models import StaffUser

PASSWORD = "a long enough password"


@pytest.fixture
def directory(database_url, set_env, no_env_file):
    set_env(APP_SECRET="two-factor-test-secret", DATABASE_URL=database_url)
    engine = make_engine(database_url)
    yield StaffDirectory(engine)
    engine.dispose()


def enrolled(directory, username="legal1", role="legal"):
    directory.add(username, role, PASSWORD)
    enrolment = directory.begin_two_factor(username)
    earlier = time.time() - 30  # the first code from the step before, so "now" is free
    codes = directory.confirm_two_factor(
        username, totp.code_at(enrolment.secret, earlier), "cli", moment=earlier
    )
    return enrolment.secret, codes


def test_enrolment_needs_a_right_first_code_and_gives_ten_recovery_codes(directory):
    directory.add("legal1", "legal", PASSWORD)
    enrolment = directory.begin_two_factor("legal1")
    assert enrolment.uri.startswith("otpauth://totp/") and enrolment.secret in enrolment.uri
    right = totp.code_at(enrolment.secret, time.time())
    wrong = right[:-1] + str((int(right[-1]) + 1) % 10)
    assert directory.confirm_two_factor("legal1", wrong, "cli") is None
    assert not directory.has_two_factor("legal1")
    codes = directory.confirm_two_factor(
        "legal1", totp.code_at(enrolment.secret, time.time()), "cli"
    )
    assert codes is not None and len(set(codes)) == 10 and directory.has_two_factor("legal1")
    with pytest.raises(StaffError, match="already"):
        directory.begin_two_factor("legal1")


def test_the_secret_is_sealed_in_the_database(directory):
    secret, _ = enrolled(directory)
    with transaction(directory.sessions) as session:
        stored = session.execute(select(StaffUser.totp_secret)).scalar_one()
    assert secret.encode() not in stored


def test_an_enrolled_account_needs_its_code_and_a_code_works_once(directory):
    secret, _ = enrolled(directory)
    assert directory.sign_in("legal1", PASSWORD, "c").outcome == accounts.CODE_NEEDED
    code = totp.code_at(secret, time.time())
    login = directory.sign_in("legal1", PASSWORD, "c", code)
    assert login.outcome == accounts.OK and login.member.username == "legal1"
    assert directory.sign_in("legal1", PASSWORD, "c", code).outcome == accounts.BAD_CODE
    assert directory.authenticate("legal1", PASSWORD, "c") is None
    assert directory.sign_in("legal1", "wrong password", "c", code).outcome == accounts.REFUSED


def test_a_recovery_code_works_once_instead_of_the_app(directory):
    _, codes = enrolled(directory)
    assert directory.sign_in("legal1", PASSWORD, "c", codes[0].upper()).outcome == accounts.OK
    assert directory.sign_in("legal1", PASSWORD, "c", codes[0]).outcome == accounts.BAD_CODE
    assert directory.sign_in("legal1", PASSWORD, "c", codes[1]).outcome == accounts.OK


def test_wrong_codes_count_toward_the_login_limits(directory):
    enrolled(directory)
    for _ in range(accounts.MAX_FAILED_LOGINS):
        assert directory.sign_in("legal1", PASSWORD, "10.0.0.9", "12345x").outcome == (
            accounts.BAD_CODE
        )
    assert directory.recent_failures("legal1", "10.0.0.9").throttled
    # further tries from this address are refused for now, before any code is checked
    assert directory.sign_in("legal1", PASSWORD, "10.0.0.9", "12345x").outcome == (
        accounts.THROTTLED
    )


def test_an_admin_without_two_factor_is_let_in_only_to_enrol(directory):
    directory.add("admin1", "admin", PASSWORD)
    directory.add("support1", "support", PASSWORD)
    assert directory.sign_in("admin1", PASSWORD, "c").outcome == accounts.ENROL
    assert directory.sign_in("support1", PASSWORD, "c").outcome == accounts.OK
    directory.disable_two_factor("support1", "admin1")  # nothing to disable: still fine
    assert not directory.has_two_factor("support1")


def test_disabling_removes_the_secret_and_the_recovery_codes(directory):
    enrolled(directory)
    directory.disable_two_factor("legal1", "admin1")
    assert directory.sign_in("legal1", PASSWORD, "c").outcome == accounts.OK
    assert not directory.has_two_factor("legal1")


def test_the_cli_enrols_with_a_code_from_standard_input(directory, database_url):
    directory.add("legal2", "legal", PASSWORD)
    env = {
        "APP_SECRET": "two-factor-test-secret",
        "DATABASE_URL": database_url,
        "PATH": "/usr/bin:/bin",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "staff", "two-factor", "--username", "legal2"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    while True:
        line = process.stdout.readline()
        lines.append(line)
        if "Then type" in line or not line:
            break
    secret = re.search(r"secret=([A-Z2-7]+)", "".join(lines)).group(1)
    out, _ = process.communicate(totp.code_at(secret, time.time()) + "\n", timeout=120)
    assert process.returncode == 0 and "Two-factor sign-in is on for legal2" in out
    assert len(re.findall(r"^  [0-9a-f]{6}-[0-9a-f]{6}$", out, re.M)) == 10
    assert directory.has_two_factor("legal2")


def test_an_enrolment_waiting_for_its_first_code_can_be_shown_again(directory):
    directory.add("legal2", "legal", PASSWORD)
    assert directory.pending_two_factor("legal2") is None
    begun = directory.begin_two_factor("legal2")
    assert directory.pending_two_factor("legal2") == begun
    directory.confirm_two_factor("legal2", totp.code_at(begun.secret, time.time()), "cli")
    assert directory.pending_two_factor("legal2") is None  # in force: nothing waits
