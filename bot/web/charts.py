"""Charts for the staff pages, drawn here as inline SVG.

Drawn by the server so that the page needs no script, no chart library and nothing from another
host. Readable without colour, and by screen readers: axis titles and labels, each bar's count
written above it, a <title> per bar (the tooltip, and what a screen reader says), and a <title>
and <desc> for the whole chart. The page shows the same numbers as a table too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import List, Optional, Sequence

from markupsafe import Markup

from bot.core.texts import DEFAULT_LANGUAGE, text
from bot.policy.gaps import WeekCount

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 24, 64  # room for the y labels, x labels and axis titles
BAR_SHARE = 0.64  # of each week's slot


def _ticks(highest: int) -> List[int]:
    """Whole-number steps from 0 to at least `highest`, at most 5 of them."""
    top = max(1, highest)
    step = max(1, math.ceil(top / 4))
    return list(range(0, step * math.ceil(top / step) + 1, step))


def _questions(count: int, language: str = DEFAULT_LANGUAGE, noun: str = "questions") -> str:
    """ "3 questions", "1 request": `web.staff.chart.<noun>_one` / `_many`."""
    return text(
        f"web.staff.chart.{noun}_one" if count == 1 else f"web.staff.chart.{noun}_many",
        language,
        count=count,
    )


def weekly_bars(
    weeks: Sequence[WeekCount],
    *,
    chart_id: str = "gap-chart",
    title: str = "",
    language: str = DEFAULT_LANGUAGE,
    noun: str = "questions",
) -> Markup:
    """A bar per ISO week (oldest on the left), its count above it and its Monday below; every
    word from the catalogue (`web.staff.chart.*`) in `language`. `noun` names what is counted
    (`questions`, `requests`): its `_one`/`_many` texts, and the y axis (`axis_y`, or
    `axis_y_<noun>` for anything but questions)."""

    def t(key: str, **values: object) -> str:
        return text(f"web.staff.chart.{key}", language, **values)

    def counted(count: int) -> str:
        return _questions(count, language, noun)

    title = title or t("title")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    ticks = _ticks(max((w.count for w in weeks), default=0))
    scale = plot_h / ticks[-1]
    slot = plot_w / max(1, len(weeks))
    bottom = TOP + plot_h
    total = sum(w.count for w in weeks)
    span = t("span", first=weeks[0].start, last=weeks[-1].start) if weeks else t("no_weeks")
    description = t("description", weeks=len(weeks), span=span, questions=counted(total))
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]
    for tick in ticks:  # the y axis: grid lines with their counts
        y = bottom - tick * scale
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="#d9e0ea" stroke-width="1"/>'
        )
        parts.append(
            f'<text class="chart-tick" x="{LEFT - 8}" y="{y + 4:.1f}" '
            f'text-anchor="end" font-size="12" fill="#334155">{tick}</text>'
        )
    for index, week in enumerate(weeks):
        x = LEFT + index * slot + slot * (1 - BAR_SHARE) / 2
        width = slot * BAR_SHARE
        height = week.count * scale
        label = t("label", start=week.start)
        centre = x + width / 2
        bar_title = t("bar", start=week.start, week=week.iso_week, questions=counted(week.count))
        parts.append(
            f'<g class="chart-bar" data-week="{escape(week.iso_week)}" data-count="{week.count}">'
            f"<title>{escape(bar_title)}</title>"
            f'<rect x="{x:.1f}" y="{bottom - height:.1f}" width="{width:.1f}" '
            f'height="{height:.1f}" fill="#1a4db3"/>'
            f'<text class="chart-count" x="{centre:.1f}" y="{bottom - height - 5:.1f}" '
            f'text-anchor="middle" font-size="12" font-weight="600" fill="#0f172a">'
            f"{week.count}</text>"
            f'<text class="chart-label" x="{centre:.1f}" y="{bottom + 16}" text-anchor="middle" '
            f'font-size="11" fill="#334155">{escape(label)}</text></g>'
        )
    parts += [
        f'<line class="chart-axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}" '
        f'stroke="#334155" stroke-width="1.5"/>',
        f'<text class="chart-axis-title" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 14}" '
        f'text-anchor="middle" font-size="12" fill="#334155">{escape(t("axis_x"))}</text>',
        f'<text class="chart-axis-title" x="14" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'font-size="12" fill="#334155" transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">'
        f"{escape(t('axis_y' if noun == 'questions' else f'axis_y_{noun}'))}</text>",
        "</svg>",
    ]
    return Markup("".join(parts))


@dataclass(frozen=True)
class Bar:
    """One bar of `horizontal_bars`: what it stands for (`key`, kept on the bar for tests and
    scripts), its name on the chart, its value (None: nothing to draw, e.g. no completions) and
    the value as written beside it ("3", "4.5 working days")."""

    key: str
    label: str
    value: Optional[float]
    shown: str


# A narrower canvas than the weekly chart's, drawn in half a page; a bar's row; room for the
# names and for the written values.
H_WIDTH, ROW, LABEL_W, VALUE_W = 480, 30, 150, 130


def horizontal_bars(
    bars: Sequence[Bar], *, chart_id: str, title: str, description: str, axis: str
) -> Markup:
    """A bar per category, its name on the left and its value written after it, so that no
    number needs the colour or the length of a bar to be read. `title`, `description` and
    `axis` (what the values are) come from the caller's catalogue texts, in its language."""
    plot_w = H_WIDTH - LABEL_W - VALUE_W - RIGHT
    height = TOP + ROW * max(1, len(bars)) + 34
    highest = max((b.value or 0 for b in bars), default=0) or 1
    ident = escape(chart_id)
    parts = [
        f'<svg class="chart chart-h" id="{ident}" role="img" viewBox="0 0 {H_WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg" '
        f'aria-labelledby="{ident}-title {ident}-desc">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
    ]
    for index, bar in enumerate(bars):
        y = TOP + index * ROW
        width = (bar.value or 0) / highest * plot_w
        parts.append(
            f'<g class="chart-bar" data-key="{escape(bar.key)}" '
            f'data-value="{"" if bar.value is None else f"{bar.value:g}"}">'
            f"<title>{escape(bar.label)}: {escape(bar.shown)}</title>"
            f'<text class="chart-label" x="{LABEL_W - 10}" y="{y + ROW / 2 + 4:.1f}" '
            f'text-anchor="end" font-size="13" fill="#0f172a">{escape(bar.label)}</text>'
            f'<rect x="{LABEL_W}" y="{y + 5}" width="{width:.1f}" height="{ROW - 10}" '
            f'fill="#1a4db3"/>'
            f'<text class="chart-count" x="{LABEL_W + width + 6:.1f}" y="{y + ROW / 2 + 4:.1f}" '
            f'font-size="12" font-weight="600" fill="#0f172a">{escape(bar.shown)}</text></g>'
        )
    bottom = TOP + ROW * max(1, len(bars))
    parts += [
        f'<line class="chart-axis" x1="{LABEL_W}" x2="{LABEL_W}" y1="{TOP}" y2="{bottom}" '
        f'stroke="#334155" stroke-width="1.5"/>',
        f'<text class="chart-axis-title" x="{LABEL_W + plot_w / 2:.1f}" y="{bottom + 22}" '
        f'text-anchor="middle" font-size="12" fill="#334155">{escape(axis)}</text>',
        "</svg>",
    ]
    return Markup("".join(parts))
