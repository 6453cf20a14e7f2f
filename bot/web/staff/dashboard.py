"""The legal desk's overview, the page `/staff/` opens on for legal and admin: open requests by
status and kind, overdue and due this week, the median working days to complete per kind and the
requests per week (12 weeks), whether the audit trail is intact, and the failed and waiting
tasks of requests in progress per product system (`bot.fulfilment`).

The numbers are `bot.requests.overview`'s and the verdict `bot.staff.audit.verify`'s; this
module only draws them, as inline SVG charts (`bot.web.charts`) with the same numbers in tables.
Support lands on the handoffs instead, as before.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Dict, List, Tuple

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.requests.overview import Overview, overview
from bot.requests.systems import systems
from bot.requests.tasks import system_label
from bot.services import Services
from bot.staff import audit
from bot.staff.accounts import StaffMember
from bot.storage.db import transaction
from bot.web import i18n
from bot.web.charts import Bar, horizontal_bars, weekly_bars
from bot.web.staff.common import page

# Who sees the overview (the rest land on their own queue): those who work the requests.
OVERVIEW_PERMISSION = "change_requests"


@dataclass(frozen=True)
class SystemLoad:
    """One system's open work: tasks of requests in progress that failed or are waiting."""

    name: str
    label: str
    failed: int
    waiting: int


def system_loads(counts: Dict[str, Dict[str, int]], language: str) -> List[SystemLoad]:
    """Every configured system in SYSTEMS_FILE's order (none open: zeros, so the table says
    so), then any with open tasks that has since left the file, by its name."""
    names = [system.name for system in systems()]
    names += sorted(name for name in counts if name not in names)
    return [
        SystemLoad(
            name,
            system_label(name, language),
            counts.get(name, {}).get("failed", 0),
            counts.get(name, {}).get("waiting", 0),
        )
        for name in names
    ]


def _read(services: Services) -> Tuple[Overview, audit.Verdict, Dict[str, Dict[str, int]]]:
    numbers = overview(services.store.sessions, services.store.clock())
    with transaction(services.store.sessions) as session:
        verdict = audit.verify(session)
    return numbers, verdict, services.fulfilment.open_by_system()


def charts(numbers: Overview, language: str) -> Dict[str, Markup]:
    """The dashboard's four charts, every word in `language`."""

    def t(key: str, **values: object) -> str:
        return i18n.text(key, language, **values)

    def status(value: str) -> str:
        return i18n.label("web.staff.status", value, language)

    def kind(value: str) -> str:
        return i18n.label("web.staff.kind", value, language)

    def days(median: object) -> str:
        if median is None:
            return t("web.staff.desk.no_completions")
        return t("web.staff.desk.median_days", days=median)

    by_status = [Bar(s, status(s), n, str(n)) for s, n in numbers.open_by_status.items()]
    by_kind = [Bar(k, kind(k), n, str(n)) for k, n in numbers.open_by_kind.items()]
    medians = [Bar(k.kind, kind(k.kind), k.median, days(k.median)) for k in numbers.completion]
    open_total = numbers.open_total

    def listed(bars: List[Bar]) -> str:
        return " · ".join(t("web.staff.desk.list_item", label=b.label, value=b.shown) for b in bars)

    return {
        "status_chart": horizontal_bars(
            by_status,
            chart_id="desk-status",
            title=t("web.staff.desk.by_status"),
            description=t(
                "web.staff.desk.by_status_desc", total=open_total, values=listed(by_status)
            ),
            axis=t("web.staff.desk.axis_open"),
        ),
        "kind_chart": horizontal_bars(
            by_kind,
            chart_id="desk-kind",
            title=t("web.staff.desk.by_kind"),
            description=t("web.staff.desk.by_kind_desc", total=open_total, values=listed(by_kind)),
            axis=t("web.staff.desk.axis_open"),
        ),
        "median_chart": horizontal_bars(
            medians,
            chart_id="desk-median",
            title=t("web.staff.desk.median"),
            description=t(
                "web.staff.desk.median_desc", weeks=len(numbers.weeks), values=listed(medians)
            ),
            axis=t("web.staff.desk.axis_days"),
        ),
        "weeks_chart": weekly_bars(
            numbers.weeks,
            chart_id="desk-weeks",
            title=t("web.staff.desk.per_week"),
            language=language,
            noun="requests",
        ),
    }


async def dashboard(services: Services, request: Request, me: StaffMember) -> Response:
    """The overview for legal and admin; support goes on to the handoffs (read in a thread:
    verifying the audit trail walks all of it)."""
    if not me.can(OVERVIEW_PERMISSION):
        return RedirectResponse("/staff/handoffs", status_code=303)
    numbers, verdict, loads = await asyncio.to_thread(_read, services)
    language = i18n.staff_language(request)
    return page(
        request,
        "staff/dashboard.html",
        me,
        o=numbers,
        verdict=verdict,
        systems=system_loads(loads, language),
        **charts(numbers, language),
    )
