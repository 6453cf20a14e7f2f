"""Staff sessions that can be revoked, and login throttling by username and client together.

Sessions: logging out, disabling a member, a new password, two-factor turned off and `staff
end-sessions` end every session of the member server-side (a copied cookie included), through
the session generation each cookie carries. Throttling: failures from one client address never
keep the member out from another; one address trying many usernames is refused; a username
that does not exist is throttled exactly like one that does; a burst of concurrent tries gets
no more answers than the limit. The migration that added the generation, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import base64
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic import command
from itsdangerous import TimestampSigner
from sqlalchemy import func, inspect, select, text

import bot.web.staff.auth as staff_auth
from bot.cli import main as cli
from bot.core.paths import ROOT
from bot.requests.store import RequestStore
from bot.services import Services
from bot.staff import accounts
from bot.staff.accounts import (
    MAX_FAILED_LOGINS,
    MAX_FAILED_LOGINS_PER_CLIENT,
    REFUSED,
    THROTTLED,
    StaffDirectory,
    StaffError,
)
from bot.storage.db import make_engine, transaction, upgrade
from bot.storage.models import AuditEntry
from tests.support.databases import copy_sqlite
from tests.support.staff import (
    SecondFactors,
    add_members,
    client,
    csrf_of,
    log_in,
    staff_app,
)

PASSWORD = "a long enough password"
NEW_PASSWORD = "another long enough password"
SECRET = "staff-sessions-test-secret"
SESSION_SECRET = "test-secret"  # what tests.support.staff.staff_app signs cookies with
STRANGER, MEMBERS_DESK = "203.0.113.9", "198.51.100.7"
SECOND_FACTORS = SecondFactors()

pytestmark = pytest.mark.usefixtures("failed_login_delays")


@pytest.fixture(autouse=True)
def app_secret(set_env):
    set_env(APP_SECRET=SECRET)


@pytest.fixture(scope="module")
def staff_database(sqlite_template, tmp_path_factory):
    """The accounts, made once (scrypt is slow); every test gets a copy. `ann` is an admin
    still to enrol in two-factor sign-in."""
    path = tmp_path_factory.mktemp("sessions") / "staff.db"
    services = Services(RequestStore(make_engine(copy_sqlite(sqlite_template, path)), secret="s"))
    add_members(
        services.directory,
        (("lena", "legal"), ("sam", "support"), ("ada", "admin"), ("ann", "admin")),
        PASSWORD,
        SECRET,
        SECOND_FACTORS,
    )
    services.store.engine.dispose()
    return path


@pytest.fixture
def database_file(staff_database, tmp_path):
    return copy_sqlite(staff_database, tmp_path / "staff.db")


@pytest.fixture
def services(database_file):
    services = Services(RequestStore(make_engine(database_file), secret="s"))
    yield services
    services.store.engine.dispose()


@pytest.fixture
def app(services):
    return staff_app(services)


def login(app, username, password=PASSWORD, address=None):
    return log_in(app, username, password, SECOND_FACTORS, address=address)


def logged_in(app, username, password=PASSWORD, address=None):
    c, response = login(app, username, password, address)
    assert response.status_code == 303, response.text
    assert c.get("/staff/requests").status_code == 200
    return c


def copy_of(app, browser):
    """Another client holding a copy of `browser`'s session cookie."""
    copy = client(app)
    copy.cookies.set("vp_staff", browser.cookies["vp_staff"])
    return copy


def let_in(c) -> bool:
    response = c.get("/staff/requests")
    if response.status_code == 303:
        assert response.headers["location"].startswith("/staff/login")
        return False
    assert response.status_code == 200
    return True


def log_out(c):
    token = csrf_of(c.get("/staff/requests").text)
    response = c.post("/staff/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"


def audited(services, action):
    with transaction(services.store.sessions) as session:
        entries = session.execute(select(AuditEntry).where(AuditEntry.action == action))
        return [(a.actor, a.target) for a in entries.scalars()]


# -- revocation ----------------------------------------------------------------------------------


def test_a_copied_cookie_is_refused_right_after_logout(app, services):
    browser = logged_in(app, "lena")
    copy = copy_of(app, browser)
    copied = copy.cookies["vp_staff"]
    assert let_in(copy)  # the copy works while the session lives
    log_out(browser)
    assert not let_in(copy) and not let_in(browser)
    stolen = client(app)  # the copy kept the cookie from before the logout; so does this one
    stolen.cookies.set("vp_staff", copied)
    assert stolen.get("/staff/requests.csv").status_code == 401
    assert ("lena", "lena") in audited(services, "logout")


def test_a_forged_logout_ends_nothing(app):
    browser = logged_in(app, "lena")
    response = browser.post("/staff/logout", data={"csrf_token": "forged"})
    assert response.status_code == 303 and let_in(browser)


def test_logout_ends_the_members_other_sessions_and_nobody_elses(app):
    office, laptop, sam = logged_in(app, "lena"), logged_in(app, "lena"), logged_in(app, "sam")
    log_out(office)
    assert not let_in(laptop)
    assert let_in(sam)
    assert let_in(logged_in(app, "lena"))  # a new login works as before


def test_disabling_a_member_ends_every_session_of_theirs(app, services):
    office, laptop = logged_in(app, "lena"), logged_in(app, "lena")
    services.directory.disable("lena")
    assert not let_in(office) and not let_in(laptop)
    _, response = login(app, "lena")
    assert response.status_code == 401


def test_a_new_password_ends_every_session_and_only_it_logs_in(app, services):
    office, laptop = logged_in(app, "lena"), logged_in(app, "lena")
    services.directory.set_password("lena", NEW_PASSWORD, "cli")
    assert not let_in(office) and not let_in(laptop)
    assert login(app, "lena")[1].status_code == 401
    assert let_in(logged_in(app, "lena", NEW_PASSWORD))
    assert ("cli", "lena") in audited(services, "password_changed")


def test_turning_two_factor_off_ends_every_session(app, services):
    admin = logged_in(app, "ada")
    services.directory.disable_two_factor("ada", "cli")
    assert not let_in(admin)


def test_the_cli_resets_a_password_and_ends_sessions(
    app, services, database_file, set_env, monkeypatch, capsys
):
    set_env(DATABASE_URL=database_file)
    lena, sam = logged_in(app, "lena"), logged_in(app, "sam")
    monkeypatch.setattr("sys.stdin", io.StringIO(NEW_PASSWORD + "\n"))
    assert cli.main(["staff", "password", "--username", "lena", "--password-stdin"]) == 0
    assert not let_in(lena) and let_in(sam)
    assert cli.main(["staff", "end-sessions", "--username", "sam"]) == 0
    assert not let_in(sam)
    assert ("cli", "sam") in audited(services, "sessions_ended")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["staff", "password", "--username", "sam", "--password-stdin"]) == 1
    assert cli.main(["staff", "end-sessions", "--username", "nobody"]) == 1
    assert "at least 12 characters" in capsys.readouterr().err
    assert let_in(logged_in(app, "lena", NEW_PASSWORD))


def test_a_new_password_ends_an_enrolment_a_login_began(app, services):
    c, response = login(app, "ann")  # an admin without two-factor: sent to enrol first
    assert response.headers["location"] == staff_auth.ENROL_PATH
    assert c.get(staff_auth.ENROL_PATH).status_code == 200
    services.directory.set_password("ann", NEW_PASSWORD, "cli")
    response = c.get(staff_auth.ENROL_PATH)
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"


def test_a_session_cookie_from_before_the_generation_is_refused(app):
    """Cookies made before the upgrade carry no generation: logged out once, not let in."""
    now = time.time()
    session = {"staff_id": 1, "login_at": now, "seen": now, "csrf": "x"}
    data = base64.b64encode(json.dumps(session).encode())
    old = client(app)
    old.cookies.set("vp_staff", TimestampSigner(SESSION_SECRET).sign(data).decode())
    assert not let_in(old)
    session["epoch"] = 0  # the same cookie with the generation: let in (the signing is right)
    data = base64.b64encode(json.dumps(session).encode())
    current = client(app)
    current.cookies.set("vp_staff", TimestampSigner(SESSION_SECRET).sign(data).decode())
    assert let_in(current)


# -- throttling ----------------------------------------------------------------------------------


def test_a_strangers_failures_do_not_keep_the_member_out_from_elsewhere(app, failed_login_delays):
    for _ in range(MAX_FAILED_LOGINS):
        assert login(app, "lena", "not the password", STRANGER)[1].status_code == 401
    assert failed_login_delays == [0.25, 0.5, 1.0, 2.0, 2.0]
    _, response = login(app, "lena", PASSWORD, STRANGER)  # the stranger: refused for now
    assert response.status_code == 200 and "Too many failed attempts" in response.text
    # The member, from their own desk: a typo is slowed (the username's failures), not refused,
    # and the right password lets them in.
    assert login(app, "lena", "a typo in it!!", MEMBERS_DESK)[1].status_code == 401
    assert failed_login_delays[-1] == 2.0
    assert let_in(logged_in(app, "lena", PASSWORD, MEMBERS_DESK))


def test_the_same_client_trying_many_usernames_is_throttled(app, failed_login_delays):
    names = ["lena", "sam", "ada", "ann"] + [f"guess{n}" for n in range(20)]
    for name in names[:MAX_FAILED_LOGINS_PER_CLIENT]:
        assert login(app, name, "not the password", STRANGER)[1].status_code == 401
    assert failed_login_delays[:5] == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert len(failed_login_delays) == MAX_FAILED_LOGINS_PER_CLIENT
    _, response = login(app, "sam", PASSWORD, STRANGER)  # a name it has not tried, right password
    assert response.status_code == 200 and "Too many failed attempts" in response.text
    assert len(failed_login_delays) == MAX_FAILED_LOGINS_PER_CLIENT  # refused before a check
    assert let_in(logged_in(app, "sam", PASSWORD, MEMBERS_DESK))


def test_a_username_that_does_not_exist_is_throttled_like_one_that_does(app):
    def tries(name, address):
        answers = []
        for _ in range(MAX_FAILED_LOGINS + 1):
            _, response = login(app, name, "not the password", address)
            answers.append((response.status_code, "Too many failed attempts" in response.text))
        return answers

    assert (
        tries("lena", "192.0.2.1")
        == tries("nobody", "192.0.2.2")
        == [(401, False)] * 5 + [(200, True)]
    )


# -- the directory, on SQLite and PostgreSQL -----------------------------------------------------


@pytest.fixture
def directory(database_url, set_env, no_env_file):
    set_env(APP_SECRET=SECRET, DATABASE_URL=database_url)
    engine = make_engine(database_url)
    yield StaffDirectory(engine)
    engine.dispose()


def epoch_of(directory, username):
    return next(m.epoch for m in directory.list() if m.username == username)


def test_each_way_of_ending_sessions_moves_the_generation_on(directory):
    member = directory.add("legal1", "legal", PASSWORD)
    directory.add("legal2", "legal", PASSWORD)
    assert member.epoch == 0
    directory.log_out(member.id, "192.0.2.1")
    directory.end_sessions("legal1", "cli")
    directory.set_password("legal1", NEW_PASSWORD, "cli")
    directory.disable_two_factor("legal1", "cli")
    directory.disable("legal1")
    assert epoch_of(directory, "legal1") == 5 and epoch_of(directory, "legal2") == 0
    with pytest.raises(StaffError, match="at least 12"):
        directory.set_password("legal2", "short", "cli")
    with pytest.raises(StaffError, match="no staff member"):
        directory.end_sessions("nobody", "cli")
    assert epoch_of(directory, "legal2") == 0
    actions = [(a.actor, a.action, a.client) for a in directory.audit_for("legal1")]
    assert ("legal1", "logout", "192.0.2.1") in actions
    assert {"sessions_ended", "password_changed", "two_factor_disabled", "staff_disabled"} <= {
        action for _, action, _ in actions
    }


def test_failures_are_counted_by_pair_client_and_username(directory):
    directory.add("legal1", "legal", PASSWORD)
    for name, address in (("legal1", "a"), ("legal1", "a"), ("legal1", "b"), ("nobody", "a")):
        assert directory.sign_in(name, "wrong password", address).outcome == REFUSED
    counted = directory.recent_failures("legal1", "a")
    assert (counted.pair, counted.client, counted.username) == (2, 3, 3)
    assert not counted.throttled and counted.most == 3
    assert directory.sign_in("LEGAL1 ", PASSWORD, "b").outcome == "ok"


def test_a_burst_of_concurrent_tries_gets_no_more_answers_than_the_limit(directory):
    """Ten wrong passwords at once from one address: five are checked and recorded, the rest
    throttled (none sees room that another has taken)."""
    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(
            pool.map(lambda _: directory.sign_in("nobody", "wrong", "192.0.2.9").outcome, range(10))
        )
    assert sorted(outcomes) == [REFUSED] * MAX_FAILED_LOGINS + [THROTTLED] * 5
    with transaction(directory.sessions) as session:
        recorded = session.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "login_failed", AuditEntry.client == "192.0.2.9")
        ).scalar_one()
    assert recorded == MAX_FAILED_LOGINS


def test_the_window_lets_the_client_try_again_later(directory, monkeypatch):
    for _ in range(MAX_FAILED_LOGINS):
        directory.sign_in("nobody", "wrong", "192.0.2.3")
    assert directory.sign_in("nobody", "wrong", "192.0.2.3").outcome == THROTTLED
    later = accounts.utcnow() + accounts.FAILED_LOGIN_WINDOW
    monkeypatch.setattr(accounts, "utcnow", lambda: later)
    assert directory.sign_in("nobody", "wrong", "192.0.2.3").outcome == REFUSED


# -- the migration -------------------------------------------------------------------------------


def alembic_config(url):
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def staff_columns(url):
    engine = make_engine(url)
    try:
        return {c["name"] for c in inspect(engine).get_columns("staff_users")}
    finally:
        engine.dispose()


def test_the_migration_adds_and_drops_the_session_generation(database_url):
    assert "session_epoch" in staff_columns(database_url)
    command.downgrade(alembic_config(database_url), "0009")
    assert "session_epoch" not in staff_columns(database_url)
    assert "totp_enabled" in staff_columns(database_url)  # the rest of the table is untouched
    engine = make_engine(database_url)
    with engine.begin() as connection:  # a member as 0009 knew them
        connection.execute(
            text(
                "INSERT INTO staff_users (username, role, password_hash, disabled, created_at) "
                "VALUES ('old', 'legal', 'x', false, CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()
    upgrade(database_url)
    directory = StaffDirectory(make_engine(database_url))
    try:
        assert [(m.username, m.epoch) for m in directory.list()] == [("old", 0)]
    finally:
        directory.engine.dispose()
