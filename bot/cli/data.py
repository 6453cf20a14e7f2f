"""`python -m bot db|requests|outbox|staff|handoffs ...`: the request database from the command
line. `bot.cli.main` parses the arguments; each function here does one subcommand and returns
its exit status."""

from __future__ import annotations

import csv
import json
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional

from bot.mail.outbox import list_messages
from bot.storage.db import database_url, make_engine, session_factory, transaction, upgrade

if TYPE_CHECKING:
    from bot.requests.store import RequestStore
    from bot.staff.accounts import StaffDirectory

StaffAction = Callable[["StaffDirectory"], None]
EXPORT_FIELDS = ("reference", "type", "status", "email", "created_at", "due_at", "details")


def _iso(value: Any) -> Optional[str]:
    return value.isoformat() if value is not None else None


def _tasks_by_request(store: RequestStore) -> Dict[int, List[Dict[str, Any]]]:
    """Each request's fulfilment tasks, `system` and `state`, in one query."""
    from sqlalchemy import select

    from bot.storage.models import FulfilmentTask

    found: Dict[int, List[Dict[str, Any]]] = {}
    with transaction(session_factory(store.engine)) as session:
        for task in session.execute(
            select(FulfilmentTask).order_by(FulfilmentTask.created_at, FulfilmentTask.system)
        ).scalars():
            found.setdefault(task.request_id, []).append(
                {"system": task.system, "state": task.state}
            )
    return found


def request_rows(store: RequestStore) -> List[Dict[str, Any]]:
    tasks = _tasks_by_request(store)
    return [
        {
            "reference": r.reference,
            "type": r.kind,
            "status": r.status,
            "email": r.email,
            "created_at": _iso(r.created_at),
            "due_at": _iso(r.due_at),
            "details": r.details,
            "verified_at": _iso(r.verified_at),
            "reason": r.reason,
            "made_by_or_for_minor": r.made_by_or_for_minor,
            "requester_role": r.requester_role,
            "tasks": tasks.get(r.id, []),
        }
        for r in store.all_requests()
    ]


def write_rows(rows: List[Dict[str, Any]], fmt: str, fields: Iterable[str]) -> None:
    """JSON (every key), or CSV of `fields` with nested values as JSON text."""
    if fmt == "json":
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                for k, v in row.items()
            }
        )


def db_upgrade() -> int:
    """`db upgrade`: apply the migrations to DATABASE_URL (its credentials not printed)."""
    upgrade()
    print(f"==> Request database is up to date ({database_url().split('@')[-1]})")
    return 0


def export_requests(fmt: str) -> int:
    """`requests export --format json|csv`: every request."""
    from bot.services import Services

    rows = request_rows(Services().store)
    write_rows(rows, fmt, EXPORT_FIELDS)
    return 0


def list_outbox(to: Optional[str], fmt: str) -> int:
    """`outbox list [--to EMAIL] [--format json|text]`."""
    sessions = session_factory(make_engine())
    with transaction(sessions) as session:
        rows = [
            {
                "id": m.id,
                "to": m.to_address,
                "subject": m.subject,
                "status": m.status,
                "attempts": m.attempts,
                "created_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
                "body": m.body,
            }
            for m in list_messages(session, to)
        ]
    if fmt == "json":
        write_rows(rows, "json", ())
    else:
        for row in rows:
            print(
                f"#{row['id']} {row['status']:<7} {row['created_at']} to {row['to']}: "
                f"{row['subject']}"
            )
    return 0


def deliver_outbox() -> int:
    """`outbox deliver`: send what is due over SMTP; 1 when SMTP is not configured."""
    from bot.mail.smtp import deliver_due, smtp_settings

    sessions = session_factory(make_engine())
    settings = smtp_settings()
    if settings is None:
        print("SMTP is not configured (SMTP_HOST, SMTP_PORT, SMTP_FROM): nothing sent.")
        return 1
    print(f"{deliver_due(sessions, settings)} message(s) sent")
    return 0


def list_handoffs(fmt: str) -> int:
    """`handoffs list [--format json|text]`."""
    from bot.services import Services

    tickets = [
        {
            "id": t.id,
            "status": t.status,
            "reason": t.reason,
            "conversation_id": t.conversation_id,
            "created_at": _iso(t.created_at),
            "assigned_to": t.assigned_to,
            "contact_email": t.contact_email,
            "messages": len(t.messages),
        }
        for t in Services().handoffs.list()
    ]
    if fmt == "json":
        write_rows(tickets, "json", ())
    else:
        for t in tickets:
            print(
                f"#{t['id']} {t['status']:<7} {t['reason']:<19} {t['created_at']} "
                f"assigned to {t['assigned_to'] or '-'}; {t['messages']} message(s)"
            )
    return 0


def add_staff(username: str, role: str) -> int:
    """`staff add --username U --role R --password-stdin`: the password is read from standard
    input, never from the command line (where the process list and shell history would show
    it)."""

    def add(directory: StaffDirectory) -> None:
        password = sys.stdin.readline().rstrip("\n")
        member = directory.add(username, role, password)
        print(f"Added {member.username} ({member.role}).")

    return _staff(add)


def list_staff() -> int:
    """`staff list`: every account, with its role and whether it is disabled."""

    def listing(directory: StaffDirectory) -> None:
        for member in directory.list():
            state = "disabled" if member.disabled else "active"
            print(f"{member.username:<24} {member.role:<8} {state}")

    return _staff(listing)


def disable_staff(username: str) -> int:
    """`staff disable --username U`: the account can no longer log in, and its sessions end."""

    def disable(directory: StaffDirectory) -> None:
        directory.disable(username)
        print(f"Disabled {username}.")

    return _staff(disable)


def reset_staff_password(username: str) -> int:
    """`staff password --username U --password-stdin`: a new password, read from standard
    input as `staff add` does; every session of the account ends with the old one."""

    def reset(directory: StaffDirectory) -> None:
        directory.set_password(username, sys.stdin.readline().rstrip("\n"), "cli")
        print(f"New password set for {username}; every session of theirs has ended.")

    return _staff(reset)


def end_staff_sessions(username: str) -> int:
    """`staff end-sessions --username U`: log the account out everywhere (a lost laptop, a
    cookie that may have been copied); its password stays."""

    def end(directory: StaffDirectory) -> None:
        directory.end_sessions(username, "cli")
        print(f"Every session of {username} has ended.")

    return _staff(end)


def enrol_two_factor(username: str) -> int:
    """`staff two-factor --username U`: a new TOTP secret to put in an authenticator app, then
    a first code from it (read from standard input), then the recovery codes, shown once."""
    from bot.staff.accounts import StaffError

    def enrol(directory: StaffDirectory) -> None:
        enrolment = directory.begin_two_factor(username)
        print(f"Add this account to an authenticator app: {enrolment.uri}")
        print(f"(or type the key by hand: {enrolment.secret})")
        print("Then type the 6-digit code the app shows:", flush=True)
        codes = directory.confirm_two_factor(username, sys.stdin.readline(), "cli")
        if codes is None:
            raise StaffError(
                "That code is not right (check the phone's clock); nothing "
                "changed: run the command again."
            )
        print(
            f"Two-factor sign-in is on for {username}. Recovery codes (each works once; keep "
            "them somewhere safe, they are not shown again):"
        )
        for code in codes:
            print(f"  {code}")

    return _staff(enrol)


def verify_audit() -> int:
    """`audit verify`: 0 when every link of the audit trail holds, 1 naming the first that
    does not."""
    from bot.staff.audit import verify

    with transaction(session_factory(make_engine())) as session:
        verdict = verify(session)
    print(verdict)
    return 0 if verdict.intact else 1


def _staff(action: StaffAction) -> int:
    """Run `action` on the staff directory; a refusal (`StaffError`) is a message and status 1."""
    from bot.services import Services
    from bot.staff.accounts import StaffError

    directory = Services().directory
    try:
        action(directory)
    except StaffError as problem:
        print(problem, file=sys.stderr)
        return 1
    return 0
