"""The staff side of the web app: login, the legal department's queue, support handoffs.

Every route here goes through `guarded`, which refuses anyone not logged in (a redirect to the
login page for pages, 401 for JSON and CSV) and anyone whose role lacks the permission (403).
Every state-changing request is a POST carrying the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import functools
import csv
import hmac
import io
import json
import secrets
import time
from datetime import datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bot.requests import lifecycle
from bot.policy.gaps import GAP_KINDS, NO_SECTION_LABEL, GapLog, section_headings, topic_names
from bot.support.tickets import Handoffs
from bot.mail.outbox import utcnow
from bot.staff.accounts import FAILED_LOGIN_WINDOW, MAX_FAILED_LOGINS, StaffDirectory, StaffMember
from bot.requests.store import KINDS, RequestStore
from bot.web.charts import weekly_bars

SESSION_LIFETIME = timedelta(hours=8)
IDLE_TIMEOUT = timedelta(minutes=30)
DUE_SOON = timedelta(days=3)
WEB_DIR = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))

Handler = Callable[[Request, StaffMember], Awaitable[Response]]


class StaffServices:
    """What the staff pages work on, opened on first use; tests hand in their own store."""

    def __init__(self, store: Optional[RequestStore] = None) -> None:
        self._store = store

    @functools.cached_property
    def store(self) -> RequestStore:
        return self._store or RequestStore()

    @functools.cached_property
    def directory(self) -> StaffDirectory:
        return StaffDirectory(self.store.engine)

    @functools.cached_property
    def handoffs(self) -> Handoffs:
        return Handoffs(self.store.engine)

    @functools.cached_property
    def gaps(self) -> GapLog:
        return GapLog(self.store.engine)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, submitted: Optional[str]) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and submitted and hmac.compare_digest(expected, submitted))


def wants_data(request: Request) -> bool:
    path = request.url.path
    return (path.endswith(".json") or path.endswith(".csv")
            or "application/json" in request.headers.get("accept", ""))


def current_member(request: Request, services: StaffServices) -> Optional[StaffMember]:
    session = request.session
    staff_id, login_at, last = session.get("staff_id"), session.get("login_at"), session.get("seen")
    now = time.time()
    if not staff_id or not login_at or not last:
        return None
    if now - login_at > SESSION_LIFETIME.total_seconds() or now - last > IDLE_TIMEOUT.total_seconds():
        session.clear()
        return None
    member = services.directory.get(staff_id)
    if member is None or member.disabled:
        session.clear()
        return None
    session["seen"] = now
    return member


def page(request: Request, name: str, me: Optional[StaffMember], **context: Any) -> Response:
    return templates.TemplateResponse(request, name, {"me": me, "csrf": csrf_token(request),
                                                      **context})


def routes(services: StaffServices) -> List[Route]:
    def guarded(permission: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            @wraps(handler)
            async def endpoint(request: Request) -> Response:
                me = current_member(request, services)
                if me is None:
                    if wants_data(request):
                        return JSONResponse({"error": "login required"}, status_code=401)
                    target = urlencode({"next": request.url.path})
                    return RedirectResponse(f"/staff/login?{target}", status_code=303)
                if not me.can(permission):
                    return JSONResponse({"error": "not allowed for your role"}, status_code=403) \
                        if wants_data(request) else Response("Not allowed for your role.",
                                                             status_code=403)
                if request.method == "POST":
                    form = await request.form()
                    token = form.get("csrf_token") or request.headers.get("x-csrf-token")
                    if not csrf_ok(request, token):
                        return JSONResponse({"error": "the form has expired: reload the page"},
                                            status_code=403)
                services.directory.seen(me.id)
                return await handler(request, me)
            endpoint.permission = permission  # type: ignore[attr-defined]
            return endpoint
        return wrap

    # -- login ----------------------------------------------------------------------------

    async def login_page(request: Request) -> Response:
        return page(request, "staff/login.html", None, error=None,
                    next=request.query_params.get("next", "/staff/"))

    async def login(request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request, form.get("csrf_token")):
            return page(request, "staff/login.html", None, next="/staff/",
                        error="The form expired. Please try again.")
        username = str(form.get("username") or "")[:64]
        client = client_of(request)
        failures = services.directory.recent_failures(username.strip().lower(), client)
        if failures >= MAX_FAILED_LOGINS:
            minutes = int(FAILED_LOGIN_WINDOW.total_seconds() // 60)
            return page(request, "staff/login.html", None, next="/staff/",
                        error=f"Too many failed attempts. Please wait {minutes} minutes.")
        member = services.directory.authenticate(username, str(form.get("password") or ""), client)
        if member is None:
            # Each failure costs more time: 0.25 s, 0.5 s, 1 s, 2 s ...
            await asyncio.sleep(min(2.0, 0.25 * 2 ** failures))
            response = page(request, "staff/login.html", None, next=str(form.get("next") or ""),
                            error="Wrong username or password.")
            response.status_code = 401
            return response
        request.session.clear()  # a fresh session (and CSRF token) on every login
        request.session.update({"staff_id": member.id, "login_at": time.time(),
                                "seen": time.time()})
        target = str(form.get("next") or "/staff/")
        if not target.startswith("/staff/") or target.startswith("//"):
            target = "/staff/"
        return RedirectResponse(target, status_code=303)

    async def logout(request: Request) -> Response:
        form = await request.form()
        if csrf_ok(request, form.get("csrf_token")):
            request.session.clear()
        return RedirectResponse("/staff/login", status_code=303)

    @guarded("read_requests")
    async def home(request: Request, me: StaffMember) -> Response:
        target = "/staff/handoffs" if me.role == "support" else "/staff/requests"
        return RedirectResponse(target, status_code=303)

    # -- legal review ---------------------------------------------------------------------

    def filters_of(request: Request) -> Dict[str, str]:
        q = request.query_params
        return {"kind": q.get("kind", "") if q.get("kind", "") in KINDS else "",
                "status": q.get("status", "") if q.get("status", "") in lifecycle.STATUSES else "",
                "overdue": "1" if q.get("overdue") else "", "minor": "1" if q.get("minor") else "",
                "q": q.get("q", "")[:254]}

    def filtered(filters: Dict[str, str]):  # noqa: ANN202
        return services.store.search(kind=filters["kind"] or None,
                                     status=filters["status"] or None,
                                     overdue=bool(filters["overdue"]),
                                     minor=bool(filters["minor"]), text=filters["q"] or None)

    def row_view(r) -> Dict[str, Any]:  # noqa: ANN001
        due = r.due_at
        now = utcnow()
        is_open = r.status in lifecycle.OPEN_STATUSES
        return {**{c: getattr(r, c) for c in (
            "reference", "kind", "status", "email", "verified_at", "details", "reason",
            "made_by_or_for_minor", "requester_role", "channel", "conversation_id",
            "rejection_reason", "created_at", "updated_at")},
            "due_at": due, "overdue": is_open and due < now,
            "due_soon": is_open and now <= due < now + DUE_SOON}

    @guarded("read_requests")
    async def queue(request: Request, me: StaffMember) -> Response:
        filters = filters_of(request)
        rows = [Row(row_view(r)) for r in filtered(filters)]
        export = "/staff/requests.csv?" + urlencode({k: v for k, v in filters.items() if v})
        return page(request, "staff/requests.html", me, requests=rows,
                    counts=services.store.counts(), filters=filters, kinds=list(KINDS),
                    statuses=list(lifecycle.STATUSES), export_url=export)

    @guarded("export_requests")
    async def export_csv(request: Request, me: StaffMember) -> Response:
        filters = filters_of(request)
        rows = filtered(filters)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["reference", "type", "status", "email", "created_at", "due_at",
                         "verified_at", "made_by_or_for_minor", "requester_role", "details",
                         "reason", "rejection_reason"])
        for r in rows:
            writer.writerow([r.reference, r.kind, r.status, r.email, iso(r.created_at),
                             iso(r.due_at), iso(r.verified_at), r.made_by_or_for_minor,
                             r.requester_role, json.dumps(r.details or {}),
                             r.reason or "", r.rejection_reason or ""])
        services.directory.audit(me.username, "export", None,
                                 f"{len(rows)} requests; filters {urlencode(filters)}",
                                 client_of(request))
        return Response(out.getvalue(), media_type="text/csv", headers={
            "Content-Disposition": 'attachment; filename="privacy-requests.csv"'})

    async def show_request(request: Request, me: StaffMember, message: Optional[str] = None,
                           error: Optional[str] = None, status_code: int = 200) -> Response:
        reference = request.path_params["reference"]
        row = services.store.get(reference)
        if row is None:
            return Response("No such request.", status_code=404)
        services.directory.audit(me.username, "view_request", reference, None, client_of(request))
        view = Row(row_view(row))
        response = page(
            request, "staff/request.html", me, r=view, events=list(row.events),
            audit=services.directory.audit_for(reference), transcript=row.transcript or [],
            next_statuses=sorted(lifecycle.TRANSITIONS[row.status]),
            can_change=me.can("change_requests"), message=message, error=error)
        response.status_code = status_code
        return response

    @guarded("read_requests")
    async def request_page(request: Request, me: StaffMember) -> Response:
        return await show_request(request, me)

    @guarded("change_requests")
    async def change_status(request: Request, me: StaffMember) -> Response:
        form = await request.form()
        reference = request.path_params["reference"]
        target = str(form.get("status") or "")
        note = str(form.get("note") or "").strip() or None
        if services.store.get(reference) is None:
            return Response("No such request.", status_code=404)
        try:
            # In a thread: completing a deletion also erases conversations, which may wait on
            # Rasa's API; the site keeps serving meanwhile.
            await asyncio.to_thread(services.store.transition, reference, target, me.username,
                                    note, notify=True)
        except lifecycle.IllegalTransition as problem:
            return await show_request(request, me, error=f"Not changed: {problem}.",
                                      status_code=400)
        return await show_request(request, me, message=(
            f"Status changed to {target.replace('_', ' ')}; the requester has been e-mailed."))

    # -- what the policy leaves unanswered ------------------------------------------------

    @guarded("review_gaps")
    async def gaps_page(request: Request, me: StaffMember) -> Response:
        report = await asyncio.to_thread(services.gaps.report)
        services.directory.audit(me.username, "view_gaps", "gaps",
                                 f"{report.total} gaps, {len(report.topics)} topics",
                                 client_of(request))
        return page(request, "staff/gaps.html", me, report=report,
                    chart=weekly_bars(report.weeks), kinds=GAP_KINDS,
                    topic_names=topic_names(), headings=section_headings(),
                    no_section=NO_SECTION_LABEL)

    @guarded("review_gaps")
    async def gaps_csv(request: Request, me: StaffMember) -> Response:
        rows = await asyncio.to_thread(services.gaps.export_rows)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(GAP_COLUMNS)
        for row in rows:
            writer.writerow([spreadsheet_safe(str(row[c])) for c in GAP_COLUMNS])
        services.directory.audit(me.username, "export", "gaps", f"{len(rows)} policy gaps",
                                 client_of(request))
        return Response(out.getvalue(), media_type="text/csv", headers={
            "Content-Disposition": 'attachment; filename="policy-gaps.csv"'})

    # -- support handoffs -----------------------------------------------------------------

    def ticket_json(t) -> Dict[str, Any]:  # noqa: ANN001
        return {"id": t.id, "status": t.status, "reason": t.reason,
                "conversation_id": t.conversation_id, "created_at": t.created_at.isoformat(),
                "assigned_to": t.assigned_to, "contact_email": t.contact_email, "live": t.live}

    @guarded("handle_handoffs")
    async def handoffs_page(request: Request, me: StaffMember) -> Response:
        return page(request, "staff/handoffs.html", me, tickets=services.handoffs.list())

    @guarded("handle_handoffs")
    async def handoffs_json(request: Request, me: StaffMember) -> Response:
        return JSONResponse({"tickets": [ticket_json(t) for t in services.handoffs.list()]})

    @guarded("handle_handoffs")
    async def ticket_page(request: Request, me: StaffMember) -> Response:
        try:
            ticket = services.handoffs.open(int(request.path_params["ticket_id"]), me.username)
        except KeyError:
            return Response("No such ticket.", status_code=404)
        return page(request, "staff/handoff.html", me, t=ticket)

    @guarded("handle_handoffs")
    async def ticket_json_view(request: Request, me: StaffMember) -> Response:
        ticket = services.handoffs.get(int(request.path_params["ticket_id"]))
        if ticket is None:
            return JSONResponse({"error": "no such ticket"}, status_code=404)
        return JSONResponse({"status": ticket.status, "messages": ticket.messages})

    @guarded("handle_handoffs")
    async def reply(request: Request, me: StaffMember) -> Response:
        form = await request.form()
        text = str(form.get("text") or "").strip()
        ticket_id = int(request.path_params["ticket_id"])
        if not text:
            return JSONResponse({"error": "Please write a reply first."}, status_code=400)
        try:
            delivery = services.handoffs.reply(ticket_id, me.username, text[:4000])
        except KeyError:
            return JSONResponse({"error": "This ticket is closed."}, status_code=409)
        ticket = services.handoffs.get(ticket_id)
        if wants_data(request):
            return JSONResponse({"ok": True, "delivery": delivery,
                                 "message": ticket.messages[-1] if ticket else None})
        return RedirectResponse(f"/staff/handoffs/{ticket_id}", status_code=303)

    @guarded("handle_handoffs")
    async def close(request: Request, me: StaffMember) -> Response:
        ticket_id = int(request.path_params["ticket_id"])
        try:
            services.handoffs.close(ticket_id, me.username)
        except KeyError:
            return Response("No such ticket.", status_code=404)
        return RedirectResponse(f"/staff/handoffs/{ticket_id}", status_code=303)

    return [
        Route("/staff/login", login_page, methods=["GET"]),
        Route("/staff/login", login, methods=["POST"]),
        Route("/staff/logout", logout, methods=["POST"]),
        Route("/staff/", home),
        Route("/staff/requests", queue),
        Route("/staff/requests.csv", export_csv),
        Route("/staff/requests/{reference}", request_page),
        Route("/staff/requests/{reference}/status", change_status, methods=["POST"]),
        Route("/staff/gaps", gaps_page),
        Route("/staff/gaps.csv", gaps_csv),
        Route("/staff/handoffs", handoffs_page),
        Route("/staff/handoffs.json", handoffs_json),
        Route("/staff/handoffs/{ticket_id:int}", ticket_page),
        Route("/staff/handoffs/{ticket_id:int}.json", ticket_json_view),
        Route("/staff/handoffs/{ticket_id:int}/reply", reply, methods=["POST"]),
        Route("/staff/handoffs/{ticket_id:int}/close", close, methods=["POST"]),
    ]


PUBLIC_STAFF_PATHS = ("/staff/login", "/staff/logout")
GAP_COLUMNS = ("created_at", "reply_kind", "topic", "sections", "language", "question")
# A cell a spreadsheet would run as a formula when it starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """A visitor's words opened in a spreadsheet stay words: "=HYPERLINK(...)" would otherwise
    run as a formula on the legal department's machine (CSV injection)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class Row(dict):
    """A dict whose keys read as attributes, for templates."""

    __getattr__ = dict.__getitem__


def iso(moment: Optional[datetime]) -> str:
    return moment.isoformat() if moment else ""
