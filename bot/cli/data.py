"""`python -m bot db|requests|outbox ...`: the request database from the command line."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any, Dict, List, Optional

from bot.storage.db import database_url, make_engine, session_factory, transaction, upgrade
from bot.mail.outbox import list_messages

EXPORT_FIELDS = ("reference", "type", "status", "email", "created_at", "due_at", "details")


def _iso(value: Any) -> Optional[str]:
    return value.isoformat() if value is not None else None


def request_rows(store) -> List[Dict[str, Any]]:  # noqa: ANN001
    return [{
        "reference": r.reference, "type": r.kind, "status": r.status, "email": r.email,
        "created_at": _iso(r.created_at), "due_at": _iso(r.due_at), "details": r.details,
        "verified_at": _iso(r.verified_at), "reason": r.reason,
        "made_by_or_for_minor": r.made_by_or_for_minor, "requester_role": r.requester_role,
    } for r in store.all_requests()]


def write_rows(rows: List[Dict[str, Any]], fmt: str, fields) -> None:  # noqa: ANN001
    if fmt == "json":
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(fields), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list))
                         else v for k, v in row.items()})


def main(command: str, argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m bot {command}")
    sub = parser.add_subparsers(dest="action", required=True)
    if command == "db":
        sub.add_parser("upgrade", help="apply the migrations to DATABASE_URL")
    elif command == "staff":
        add = sub.add_parser("add", help="a new staff account")
        add.add_argument("--username", required=True)
        add.add_argument("--role", required=True, choices=["legal", "support", "admin"])
        add.add_argument("--password-stdin", action="store_true", required=True,
                         help="read the password from standard input (never from the command line)")
        sub.add_parser("list", help="every staff account")
        disable = sub.add_parser("disable", help="disable an account (it can no longer log in)")
        disable.add_argument("--username", required=True)
    elif command == "handoffs":
        listing = sub.add_parser("list", help="handoff tickets")
        listing.add_argument("--format", choices=["json", "text"], default="text")
    elif command == "requests":
        export = sub.add_parser("export", help="every request")
        export.add_argument("--format", choices=["json", "csv"], default="json")
    else:
        listing = sub.add_parser("list", help="messages in the outbox")
        listing.add_argument("--to", help="only messages to this address")
        listing.add_argument("--format", choices=["json", "text"], default="text")
        sub.add_parser("deliver", help="send what is due over SMTP (SMTP_HOST/PORT/FROM)")
    args = parser.parse_args(argv)

    if command == "db":
        upgrade()
        print(f"==> Request database is up to date ({database_url().split('@')[-1]})")
        return 0
    if command == "staff":
        return staff_command(args)
    if command == "handoffs":
        from bot.support.tickets import Handoffs
        tickets = [{"id": t.id, "status": t.status, "reason": t.reason,
                    "conversation_id": t.conversation_id, "created_at": _iso(t.created_at),
                    "assigned_to": t.assigned_to, "contact_email": t.contact_email,
                    "messages": len(t.messages)} for t in Handoffs().list()]
        if args.format == "json":
            write_rows(tickets, "json", ())
        else:
            for t in tickets:
                print(f"#{t['id']} {t['status']:<7} {t['reason']:<19} {t['created_at']} "
                      f"assigned to {t['assigned_to'] or '-'}; {t['messages']} message(s)")
        return 0
    if command == "requests":
        from bot.requests.store import RequestStore
        rows = request_rows(RequestStore(secret=""))
        write_rows(rows, args.format, EXPORT_FIELDS)
        return 0
    sessions = session_factory(make_engine())
    if args.action == "deliver":
        from bot.mail.smtp import deliver_due, smtp_settings
        settings = smtp_settings()
        if settings is None:
            print("SMTP is not configured (SMTP_HOST, SMTP_PORT, SMTP_FROM): nothing sent.")
            return 1
        print(f"{deliver_due(sessions, settings)} message(s) sent")
        return 0
    with transaction(sessions) as session:
        rows = [{"id": m.id, "to": m.to_address, "subject": m.subject, "status": m.status,
                 "attempts": m.attempts, "created_at": _iso(m.created_at),
                 "sent_at": _iso(m.sent_at), "body": m.body}
                for m in list_messages(session, args.to)]
    if args.format == "json":
        write_rows(rows, "json", ())
    else:
        for row in rows:
            print(f"#{row['id']} {row['status']:<7} {row['created_at']} to {row['to']}: "
                  f"{row['subject']}")
    return 0


def staff_command(args: argparse.Namespace) -> int:
    from bot.staff.accounts import StaffDirectory, StaffError

    directory = StaffDirectory()
    try:
        if args.action == "add":
            password = sys.stdin.readline().rstrip("\n")
            member = directory.add(args.username, args.role, password)
            print(f"Added {member.username} ({member.role}).")
        elif args.action == "disable":
            directory.disable(args.username)
            print(f"Disabled {args.username}.")
        else:
            for member in directory.list():
                state = "disabled" if member.disabled else "active"
                print(f"{member.username:<24} {member.role:<8} {state}")
    except StaffError as problem:
        print(problem, file=sys.stderr)
        return 1
    return 0
