"""The incident chart as a PNG for the notifications (Discord attaches it in the embed, the
e-mail shows it inline): rendered offline with Pillow, deterministic for the same
incident (no time, no randomness; Pillow's bundled font), kept under `MAX_BYTES`.

`incident_picture` never raises: a chart that cannot be drawn is logged and the
message goes without it, at once.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import Connection

from detector.incidents.chart import IncidentChart, Mark, incident_chart_data
from detector.incidents.model import Incident

log = logging.getLogger(__name__)

WIDTH = 800
ROW = 84
LEFT = 110
RIGHT = 12
#: A picture larger than this is not sent (Discord's and mail servers' patience).
MAX_BYTES = 200_000

BG = (17, 20, 24)
FG = (227, 230, 234)
MUTED = (138, 147, 158)
GRID = (42, 49, 58)
LINES = (59, 110, 168)
ERRORS = (255, 107, 107)
MARK = (255, 204, 77)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _xy(i: int, n: int, v: int, top: float, height: float, peak: int) -> tuple[float, float]:
    span = WIDTH - LEFT - RIGHT
    x = LEFT + span * i / max(n - 1, 1)
    return x, top + height - (height * v / peak if peak else 0)


def render_png(chart: IncidentChart, title: str = "") -> bytes:
    """The chart as PNG bytes: one row per service (lines filled, errors as a line), each
    finding a vertical dashed rule; times in UTC along the bottom."""
    series = chart.series
    head = 26 if title else 6
    height = head + ROW * max(len(series), 1) + 22
    img = Image.new("RGB", (WIDTH, height), BG)
    d = ImageDraw.Draw(img)
    small, normal = _font(11), _font(13)
    if title:
        d.text((8, 6), title[:110], fill=FG, font=normal)
    if not series or not series[0].lines:
        d.text((8, head + 10), "no lines in this window", fill=MUTED, font=normal)
        return _encode(img)
    n = len(series[0].lines)
    for row, s in enumerate(series):
        top = head + row * ROW + 6
        inner = ROW - 18
        base = top + inner
        peak = max(s.lines)
        d.text((8, top + inner / 2 - 7), s.service[:14], fill=FG, font=normal)
        d.line([(LEFT, base), (WIDTH - RIGHT, base)], fill=GRID, width=1)
        if peak:
            area = [(LEFT, base)]
            area += [_xy(i, n, v, top, inner, peak) for i, v in enumerate(s.lines)]
            area += [(WIDTH - RIGHT, base)]
            d.polygon(area, fill=LINES)
            d.line(
                [_xy(i, n, v, top, inner, peak) for i, v in enumerate(s.errors)],
                fill=ERRORS,
                width=2,
            )
            d.text((WIDTH - RIGHT, top), f"{peak}/min", fill=MUTED, font=small, anchor="ra")
    _marks(d, chart.marks, series[0].start, n, head, height - 22)
    start = series[0].start
    end = start + timedelta(minutes=n)
    d.text((LEFT, height - 16), f"{start:%Y-%m-%d %H:%M} UTC", fill=MUTED, font=small)
    d.text((WIDTH - RIGHT, height - 16), f"{end:%H:%M}", fill=MUTED, font=small, anchor="ra")
    return _encode(img)


def _marks(
    d: ImageDraw.ImageDraw, marks: Sequence[Mark], start: datetime, n: int, top: int, bottom: int
) -> None:
    span = WIDTH - LEFT - RIGHT
    for m in marks:
        i = (m.at - start) / timedelta(minutes=1)
        if not 0 <= i <= n:
            continue
        x = LEFT + span * i / max(n - 1, 1)
        for y in range(top, bottom, 8):
            d.line([(x, y), (x, min(y + 4, bottom))], fill=MARK, width=2)


def _encode(img: Image.Image) -> bytes:
    """PNG with a fixed palette: flat colours, so small; the same pixels give the same bytes."""
    out = io.BytesIO()
    img.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


def incident_picture(conn: Connection, incident: Incident) -> bytes | None:
    """The PNG of `incident`'s chart, or None when it cannot be drawn or is too large."""
    try:
        png = render_png(incident_chart_data(conn, incident), f"#{incident.id} {incident.title}")
    except Exception:  # a picture is a courtesy: the text goes without it
        log.exception("the chart of incident %s could not be drawn", incident.id)
        return None
    if len(png) > MAX_BYTES:
        log.warning("the chart of incident %s is %d bytes: not sent", incident.id, len(png))
        return None
    return png
