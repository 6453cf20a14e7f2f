"""`python -m bot COMMAND ...`: the project's command line, one argparse subcommand per command.

The whole interface is declared here, so `python -m bot --help` lists every command and a wrong
one is argparse's message and exit status 2. What a command does lives elsewhere and is imported
only when that command runs: building this parser must not load Rasa, TensorFlow or the
encoder (tests/test_cli.py checks `python -m bot policy` and `--help`), nor the database for
commands that need none.

The developer tools (eval, bench, soak, calibrate, compare) and `pipeline` keep their own
parsers: their subcommand hands every argument after the command's name to that module's
`main(argv)`, so `python -m bot eval --help` is eval's own help.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta
from importlib import import_module
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from bot.requests.deadlines import JURISDICTIONS
from bot.retention.ages import AGE_HELP, parse_age

Handler = Callable[[argparse.Namespace], int]
if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

PURGE_DESCRIPTION = (
    "Remove chat data older than the retention period: conversations in the SQL tracker store, "
    "expired verification codes, delivered e-mails, transcripts of closed requests and "
    "handoffs, policy gaps and answer ratings. Requests, their history and the audit log are "
    "kept."
)

# Commands whose module parses its own arguments: name -> (module, line in --help).
DELEGATED: Dict[str, Tuple[str, str]] = {
    "eval": ("bot.devtools.eval", "evaluate the running assistant on FILE [FILE ...]"),
    "pipeline": ("bot.rasa.spacy_pipeline", "build the project's spaCy pipeline"),
    "bench": ("bot.devtools.bench", "throughput and latency under load, beside a stock bot"),
    "soak": (
        "bot.devtools.soak",
        "visitors make requests while the action server is killed, hung, the database locked",
    ),
    "calibrate": (
        "bot.devtools.calibrate",
        "fit the router's thresholds on cross-validation results",
    ),
    "compare": ("bot.devtools.compare", "cross-validate every NLU pipeline in docs/pipelines/"),
    "parts": ("bot.devtools.parts", "compare part classifiers on two-part questions"),
    "silence": ("bot.devtools.silence", "measure and fit whether the policy addresses a question"),
}


# -- what each command does (imported when it runs) --------------------------------------------


def _run(args: argparse.Namespace) -> int:
    from bot.devtools.stack import run_foreground
    from bot.requests.systems import SystemsFileError, check_systems

    try:
        check_systems()
    except SystemsFileError as problem:
        print(f"==> Not started: {problem}", file=sys.stderr)
        return 1
    return run_foreground(workers=args.workers)


def _fulfilment_start(args: argparse.Namespace) -> int:
    from bot.cli.fulfilment import start

    return start(args.reference, args.actor)


def _fulfilment_deliver(args: argparse.Namespace) -> int:
    from bot.cli.fulfilment import deliver

    return deliver()


def _fulfilment_show(args: argparse.Namespace) -> int:
    from bot.cli.fulfilment import show

    return show(args.reference, args.format)


def _env(args: argparse.Namespace) -> int:
    from bot.core.settings import ensure_env_file

    added = ensure_env_file()
    print(f"==> Added {', '.join(added)} to .env" if added else "==> .env is complete")
    return 0


def _policy(args: argparse.Namespace) -> int:
    from bot.policy.document import load_policy

    policy = load_policy()
    print(f"{policy.title} (effective {policy.effective_date})")
    for section in policy.sections:
        gaps = f", gaps: {', '.join(g.kind for g in section.gaps)}" if section.gaps else ""
        print(f"- {section.id}: {section.heading} ({len(section.sentences)} sentences{gaps})")
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.cli.data import db_upgrade

    return db_upgrade()


def _audit_verify(args: argparse.Namespace) -> int:
    from bot.cli.data import verify_audit

    return verify_audit()


def _requests_export(args: argparse.Namespace) -> int:
    from bot.cli.data import export_requests

    return export_requests(args.format)


def _outbox_list(args: argparse.Namespace) -> int:
    from bot.cli.data import list_outbox

    return list_outbox(args.to, args.format)


def _outbox_deliver(args: argparse.Namespace) -> int:
    from bot.cli.data import deliver_outbox

    return deliver_outbox()


def _staff_add(args: argparse.Namespace) -> int:
    from bot.cli.data import add_staff

    return add_staff(args.username, args.role)


def _staff_list(args: argparse.Namespace) -> int:
    from bot.cli.data import list_staff

    return list_staff()


def _staff_disable(args: argparse.Namespace) -> int:
    from bot.cli.data import disable_staff

    return disable_staff(args.username)


def _staff_password(args: argparse.Namespace) -> int:
    from bot.cli.data import reset_staff_password

    return reset_staff_password(args.username)


def _staff_end_sessions(args: argparse.Namespace) -> int:
    from bot.cli.data import end_staff_sessions

    return end_staff_sessions(args.username)


def _staff_two_factor(args: argparse.Namespace) -> int:
    from bot.cli.data import enrol_two_factor

    return enrol_two_factor(args.username)


def _handoffs_list(args: argparse.Namespace) -> int:
    from bot.cli.data import list_handoffs

    return list_handoffs(args.format)


def _purge(args: argparse.Namespace) -> int:
    from bot.cli.retention import run

    return run(args.older_than, args.dry_run)


def _due(args: argparse.Namespace) -> int:
    from bot.core.settings import load_settings
    from bot.requests.deadlines import due_date, jurisdiction

    where = jurisdiction(args.jurisdiction)
    zone = ZoneInfo(where.zone)
    # Received at noon local time on that day: what the desk gives a request of that day.
    received = datetime.combine(args.start, datetime.min.time().replace(hour=12), tzinfo=zone)
    days = (
        load_settings().request_due_working_days if args.working_days is None else args.working_days
    )
    deadline = due_date(received, days, where)
    count = "one calendar month" if where.working_day is None else f"{days} working days"
    print(f"jurisdiction: {where.label} ({', '.join(JURISDICTIONS)} known)")
    print(f"received: {args.start.isoformat()}, {count}")
    if deadline.estimated:
        years = ", ".join(str(year) for year in deadline.unknown_years)
        print(
            f"estimated: the statutory calendar does not know {years} yet; those days are "
            "counted Monday to Friday"
        )
    print(deadline.due.astimezone(zone).date().isoformat())
    return 0


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-09-28") from None


def _days(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (0 or more)")
    return int(text)


def _age(text: str) -> timedelta:
    """`--older-than`: a bad age is argparse's error (usage, the sentence, exit status 2)."""
    try:
        return parse_age(text)
    except ValueError as problem:
        raise argparse.ArgumentTypeError(str(problem)) from None


# -- the parser ---------------------------------------------------------------------------------


def _command(
    commands: Commands,
    name: str,
    summary: str,
    handler: Optional[Handler] = None,
    description: Optional[str] = None,
) -> argparse.ArgumentParser:
    """A command parsed here; `summary` is its line in `python -m bot --help`."""
    parser = commands.add_parser(name, help=summary, description=description)
    parser.set_defaults(handler=handler, delegate=None)
    return parser


def _action(
    actions: Commands, name: str, summary: str, handler: Handler
) -> argparse.ArgumentParser:
    """The second word of `db`, `requests`, `fulfilment`, `outbox`, `staff` or `handoffs`."""
    parser = actions.add_parser(name, help=summary)
    parser.set_defaults(handler=handler)
    return parser


def _actions_of(parser: argparse.ArgumentParser) -> Commands:
    return parser.add_subparsers(dest="action", required=True)


def _add_delegated(commands: Commands, name: str) -> None:
    module, summary = DELEGATED[name]
    # No options of its own, not even -h: every argument goes on to the module's parser.
    parser = commands.add_parser(name, help=summary, add_help=False)
    parser.set_defaults(handler=None, delegate=module)


def _add_run(commands: Commands) -> None:
    run = _command(commands, "run", "start Rasa, the action server and the web app", _run)
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes per server (default 1); more than one uses the scaled "
        "stores, PostgreSQL and Redis",
    )


def _add_db(commands: Commands) -> None:
    db = _actions_of(_command(commands, "db", "the request database: upgrade"))
    _action(db, "upgrade", "apply the migrations to DATABASE_URL", _db_upgrade)


def _add_audit(commands: Commands) -> None:
    audit = _actions_of(_command(commands, "audit", "the audit trail: verify"))
    _action(
        audit,
        "verify",
        "check every link of the audit trail's hash chain (exit 1: broken)",
        _audit_verify,
    )


def _add_requests(commands: Commands) -> None:
    requests = _actions_of(_command(commands, "requests", "the privacy requests: export"))
    export = _action(requests, "export", "every request", _requests_export)
    export.add_argument("--format", choices=["json", "csv"], default="json")


def _add_fulfilment(commands: Commands) -> None:
    fulfilment = _actions_of(
        _command(
            commands, "fulfilment", "carrying requests out in the systems: start, deliver, show"
        )
    )
    start = _action(
        fulfilment, "start", "start a verified request: one task per system", _fulfilment_start
    )
    start.add_argument("reference")
    start.add_argument("--actor", required=True, help="who starts it (the audit trail's actor)")
    _action(fulfilment, "deliver", "one delivery round of webhook tasks", _fulfilment_deliver)
    show = _action(fulfilment, "show", "a request's tasks", _fulfilment_show)
    show.add_argument("reference")
    show.add_argument("--format", choices=["json", "text"], default="text")


def _add_outbox(commands: Commands) -> None:
    outbox = _actions_of(_command(commands, "outbox", "the e-mail outbox: list, deliver"))
    listing = _action(outbox, "list", "messages in the outbox", _outbox_list)
    listing.add_argument("--to", help="only messages to this address")
    listing.add_argument("--format", choices=["json", "text"], default="text")
    _action(outbox, "deliver", "send what is due over SMTP (SMTP_HOST/PORT/FROM)", _outbox_deliver)


def _add_staff(commands: Commands) -> None:
    staff = _actions_of(
        _command(commands, "staff", "staff accounts: add, list, disable, password, end-sessions")
    )
    add = _action(staff, "add", "a new staff account", _staff_add)
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=["legal", "support", "admin"])
    add.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input (never from the command line)",
    )
    _action(staff, "list", "every staff account", _staff_list)
    disable = _action(
        staff, "disable", "disable an account (it can no longer log in)", _staff_disable
    )
    disable.add_argument("--username", required=True)
    password = _action(
        staff, "password", "set a new password (every session of the account ends)", _staff_password
    )
    password.add_argument("--username", required=True)
    password.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input (never from the command line)",
    )
    end = _action(staff, "end-sessions", "log an account out everywhere", _staff_end_sessions)
    end.add_argument("--username", required=True)
    two = _action(
        staff, "two-factor", "enrol an account in two-factor sign-in (TOTP)", _staff_two_factor
    )
    two.add_argument("--username", required=True)


def _add_handoffs(commands: Commands) -> None:
    handoffs = _actions_of(_command(commands, "handoffs", "support handoff tickets: list"))
    listing = _action(handoffs, "list", "handoff tickets", _handoffs_list)
    listing.add_argument("--format", choices=["json", "text"], default="text")


def _add_due(commands: Commands) -> None:
    due = _command(commands, "due", "the due date the desk gives a request received on a day", _due)
    due.add_argument(
        "--from",
        dest="start",
        required=True,
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="the day the request was received",
    )
    due.add_argument(
        "--working-days",
        type=_days,
        default=None,
        metavar="N",
        help="working days allowed (default REQUEST_DUE_WORKING_DAYS)",
    )
    due.add_argument(
        "--jurisdiction",
        default=None,
        choices=sorted(JURISDICTIONS),
        help="how days are counted (default REQUEST_JURISDICTION)",
    )


def _add_purge(commands: Commands) -> None:
    purge = _command(
        commands,
        "purge",
        "remove chat data older than --older-than AGE",
        _purge,
        description=PURGE_DESCRIPTION,
    )
    purge.add_argument(
        "--older-than",
        required=True,
        type=_age,
        metavar="AGE",
        help=f"the retention period: {AGE_HELP}",
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="count what would be removed, and remove nothing"
    )


class _OneLineEach(argparse.HelpFormatter):
    """Each command's description on its own line beside its name in `python -m bot --help`.

    argparse measures the command names without the indent it prints them with, so a long one
    ("calibrate") would otherwise push its description onto the next line."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            longest = max(len(name) for name in action.choices)
            printed = self._current_indent + self._indent_increment + longest
            self._action_max_length = max(self._action_max_length, printed)


def build_parser() -> argparse.ArgumentParser:
    """Every command, in the order `python -m bot --help` lists them."""
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="VideoPro privacy assistant", formatter_class=_OneLineEach
    )
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)
    _add_run(commands)
    _add_delegated(commands, "eval")
    _command(commands, "env", "add RASA_API_TOKEN and APP_SECRET to .env if missing", _env)
    _add_delegated(commands, "pipeline")
    _command(
        commands, "policy", "print the policy's sections as the assistant parsed them", _policy
    )
    _add_db(commands)
    _add_requests(commands)
    _add_fulfilment(commands)
    _add_audit(commands)
    _add_outbox(commands)
    _add_staff(commands)
    _add_handoffs(commands)
    _add_delegated(commands, "bench")
    _add_delegated(commands, "soak")
    _add_purge(commands)
    _add_due(commands)
    _add_delegated(commands, "calibrate")
    _add_delegated(commands, "compare")
    _add_delegated(commands, "parts")
    _add_delegated(commands, "silence")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Parse, then run the command; the exit status is the command's."""
    parser = build_parser()
    args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else list(argv))
    if args.delegate:
        delegated: int = import_module(args.delegate).main(rest)
        return delegated
    if rest:  # what parse_args would say: only the delegated commands take arguments unseen
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    handler: Handler = args.handler
    return handler(args)
