"""Charts for the staff pages, drawn here as inline SVG.

Drawn by the server so that the page needs no script, no chart library and nothing from another
host. Readable without colour, and by screen readers: axis titles and labels, each bar's count
written above it, a <title> per bar (the tooltip, and what a screen reader says), and a <title>
and <desc> for the whole chart. The page shows the same numbers as a table too.
"""

from __future__ import annotations

import math
from html import escape
from typing import List, Sequence

from markupsafe import Markup

from bot.policy.gaps import WeekCount

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 24, 64  # room for the y labels, x labels and axis titles
BAR_SHARE = 0.64  # of each week's slot


def _ticks(highest: int) -> List[int]:
    """Whole-number steps from 0 to at least `highest`, at most 5 of them."""
    top = max(1, highest)
    step = max(1, math.ceil(top / 4))
    return list(range(0, step * math.ceil(top / step) + 1, step))


def _questions(count: int) -> str:
    return f"{count} question{'' if count == 1 else 's'}"


def weekly_bars(weeks: Sequence[WeekCount], *, chart_id: str = "gap-chart",
                title: str = "Unanswered questions per week") -> Markup:
    """A bar per ISO week (oldest on the left), its count above it and its Monday below."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    ticks = _ticks(max((w.count for w in weeks), default=0))
    scale = plot_h / ticks[-1]
    slot = plot_w / max(1, len(weeks))
    bottom = TOP + plot_h
    total = sum(w.count for w in weeks)
    span = (f"from the week of {weeks[0].start:%d %b %Y} to the week of {weeks[-1].start:%d %b %Y}"
            if weeks else "no weeks")
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">Bar chart of {len(weeks)} weeks {escape(span)}: '
        f'{escape(_questions(total))} in all.</desc>',
    ]
    for tick in ticks:  # the y axis: grid lines with their counts
        y = bottom - tick * scale
        parts.append(f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
                     f'y2="{y:.1f}" stroke="#d9e0ea" stroke-width="1"/>')
        parts.append(f'<text class="chart-tick" x="{LEFT - 8}" y="{y + 4:.1f}" '
                     f'text-anchor="end" font-size="12" fill="#334155">{tick}</text>')
    for index, week in enumerate(weeks):
        x = LEFT + index * slot + slot * (1 - BAR_SHARE) / 2
        width = slot * BAR_SHARE
        height = week.count * scale
        label = f"{week.start:%d %b}"
        centre = x + width / 2
        parts.append(
            f'<g class="chart-bar" data-week="{escape(week.iso_week)}" data-count="{week.count}">'
            f'<title>Week of {week.start:%d %b %Y} ({escape(week.iso_week)}): '
            f'{escape(_questions(week.count))}</title>'
            f'<rect x="{x:.1f}" y="{bottom - height:.1f}" width="{width:.1f}" '
            f'height="{height:.1f}" fill="#1a4db3"/>'
            f'<text class="chart-count" x="{centre:.1f}" y="{bottom - height - 5:.1f}" '
            f'text-anchor="middle" font-size="12" font-weight="600" fill="#0f172a">'
            f'{week.count}</text>'
            f'<text class="chart-label" x="{centre:.1f}" y="{bottom + 16}" text-anchor="middle" '
            f'font-size="11" fill="#334155">{escape(label)}</text></g>')
    parts += [
        f'<line class="chart-axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}" '
        f'stroke="#334155" stroke-width="1.5"/>',
        f'<text class="chart-axis-title" x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 14}" '
        f'text-anchor="middle" font-size="12" fill="#334155">Week starting (Monday, UTC)</text>',
        f'<text class="chart-axis-title" x="14" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'font-size="12" fill="#334155" transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">'
        f'Questions</text>',
        "</svg>",
    ]
    return Markup("".join(parts))
