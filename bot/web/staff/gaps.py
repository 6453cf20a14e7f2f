"""What the policy leaves unanswered, for the legal department: the report page and its CSV.

Both read the masked gap log (`bot.policy.gaps`); the export goes through the same formula
guard as every staff CSV, since the questions are what visitors typed. Views and exports are
audited.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Dict, List

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.core.texts import DEFAULT_LANGUAGE
from bot.policy.gaps import GAP_KINDS, section_headings, topic_names
from bot.services import Services
from bot.staff.accounts import StaffMember
from bot.web import i18n
from bot.web.charts import weekly_bars
from bot.web.security import client_of
from bot.web.staff.common import csv_download, guarded, page

log = logging.getLogger(__name__)

GAP_COLUMNS = ("created_at", "reply_kind", "topic", "sections", "language", "question")


async def gaps_page(services: Services, request: Request, me: StaffMember) -> Response:
    """Topics ranked, the weekly trend and the ratings per section (the report is built in a
    thread: it reads the whole log)."""
    report = await asyncio.to_thread(services.gaps.report)
    await asyncio.to_thread(
        services.directory.audit,
        me.username,
        "view_gaps",
        "gaps",
        f"{report.total} gaps, {len(report.topics)} topics",
        client_of(request),
    )
    language = i18n.staff_language(request)
    return page(
        request,
        "staff/gaps.html",
        me,
        report=report,
        chart=weekly_bars(report.weeks, language=language),
        kinds=GAP_KINDS,
        topic_names=topic_names(),
        headings=section_headings(),
        translated_topics=translated_topic_names(language),
        translated_headings=translated_headings(language),
    )


def translated_headings(language: str) -> Dict[str, str]:
    """Section id -> its name in `language` (the reference translation's), beside the published
    English heading, which stays the section's name; empty for English or when unreadable."""
    if language == DEFAULT_LANGUAGE:
        return {}
    try:
        from bot.policy.translation import load_translation

        return load_translation(language).headings()
    except Exception as error:  # noqa: BLE001 - a display nicety must not break the page
        log.warning("Translated headings unavailable: %s", type(error).__name__)
        return {}


def translated_topic_names(language: str) -> Dict[str, str]:
    """Topic id -> its name in `language` from the coverage map, for a page in a language other
    than the default; empty when unreadable."""
    if language == DEFAULT_LANGUAGE:
        return {}
    try:
        from bot.policy.coverage import load_coverage

        return load_coverage().names_in(language)
    except Exception as error:  # noqa: BLE001 - a display nicety must not break the page
        log.warning("Translated topic names unavailable: %s", type(error).__name__)
        return {}


async def gaps_csv(services: Services, request: Request, me: StaffMember) -> Response:
    """Every entry of the gap log as CSV, audited."""
    rows = await asyncio.to_thread(services.gaps.export_rows)
    response = csv_download(
        GAP_COLUMNS, ([str(row[c]) for c in GAP_COLUMNS] for row in rows), "policy-gaps.csv"
    )
    await asyncio.to_thread(
        services.directory.audit,
        me.username,
        "export",
        "gaps",
        f"{len(rows)} policy gaps",
        client_of(request),
    )
    return response


def routes(services: Services) -> List[Route]:
    """The gap report's routes (legal and admin: `review_gaps`)."""
    return [
        Route("/staff/gaps", guarded(services, "review_gaps", gaps_page)),
        Route("/staff/gaps.csv", guarded(services, "review_gaps", gaps_csv)),
    ]
