"""Pictures as SVG text, drawn on the server: pure functions of typed values.

No script, no external asset, every piece of text escaped (`escape`): an SVG is
inlined in the page under a CSP without inline script, and log text in a tooltip
stays text. Colours are CSS classes, so the dark and the light theme both apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from html import escape

from detector.incidents.chart import Mark
from logvigil.store.series import Series

WIDTH = 720
ROW = 90  # height of one service's chart
LEFT = 110  # room for the service's name


def _points(values: Sequence[int], top: float, height: float, peak: int) -> str:
    n = max(len(values) - 1, 1)
    span = WIDTH - LEFT - 10
    return " ".join(
        f"{LEFT + span * i / n:.1f},{top + height - (height * v / peak if peak else 0):.1f}"
        for i, v in enumerate(values)
    )


def incident_chart(series: Sequence[Series], marks: Sequence[Mark] = ()) -> str:
    """One row per service: lines per minute (filled) and errors per minute (a line), with
    each mark as a vertical rule carrying its label as a tooltip."""
    height = ROW * max(len(series), 1) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label="lines and errors per minute">'
    ]
    if not series:
        parts.append('<text x="10" y="20" class="axis">no lines in this window</text></svg>')
        return "".join(parts)
    start = series[0].start
    minutes = max(len(series[0].lines), 1)
    span = WIDTH - LEFT - 10
    for row, s in enumerate(series):
        top = row * ROW + 8
        inner = ROW - 20
        peak = max(s.lines or [0])
        parts.append(f'<g class="svc"><title>{escape(s.service)}</title>')
        parts.append(
            f'<text x="4" y="{top + inner / 2 + 4:.0f}" class="name">{escape(s.service)}</text>'
        )
        parts.append(
            f'<line x1="{LEFT}" y1="{top + inner}" x2="{WIDTH - 10}" y2="{top + inner}" '
            'class="base"/>'
        )
        if peak:
            pts = _points(s.lines, top, inner, peak)
            parts.append(
                f'<polygon class="lines" '
                f'points="{LEFT},{top + inner} {pts} {WIDTH - 10},{top + inner}"/>'
            )
            parts.append(
                f'<polyline class="errors" points="{_points(s.errors, top, inner, peak)}"/>'
            )
            parts.append(
                f'<text x="{WIDTH - 12}" y="{top + 10}" class="axis end">{peak}/min</text>'
            )
        parts.append("</g>")
    for m in marks:
        i = (m.at - start) / timedelta(minutes=1)
        if 0 <= i <= minutes:
            x = LEFT + span * i / max(minutes - 1, 1)
            parts.append(
                f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 20}" class="mark">'
                f"<title>{escape(m.label)}</title></line>"
            )
    end = start + timedelta(minutes=minutes)
    parts.append(f'<text x="{LEFT}" y="{height - 4}" class="axis">{start:%H:%M} UTC</text>')
    parts.append(f'<text x="{WIDTH - 10}" y="{height - 4}" class="axis end">{end:%H:%M}</text>')
    parts.append("</svg>")
    return "".join(parts)


def sparkline(values: Sequence[int], width: int = 120, height: int = 24) -> str:
    """A small line of daily counts."""
    peak = max(values or [0])
    n = max(len(values) - 1, 1)
    pts = " ".join(
        f"{width * i / n:.1f},{height - 2 - ((height - 4) * v / peak if peak else 0):.1f}"
        for i, v in enumerate(values)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="spark" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="lines per day">'
        f'<polyline class="errors" points="{pts}"/></svg>'
    )


def dependency_graph(
    edges: Sequence[tuple[str, str]],
    *,
    root: str | None = None,
    affected: Sequence[str] = (),
    at_risk: Sequence[str] = (),
) -> str:
    """Services as boxes in layers (a service sits below what depends on it), arrows from
    dependent to dependency; the root, the affected and the at-risk services are classed
    (`root`, `affected`, `at-risk`) and say so in their tooltip."""
    nodes = sorted(
        {n for e in edges for n in e} | ({root} if root else set()) | set(affected) | set(at_risk)
    )
    if not nodes:
        return ""
    needs: dict[str, set[str]] = {n: set() for n in nodes}
    for a, b in edges:
        needs[a].add(b)
    depth: dict[str, int] = {}

    def level(n: str, seen: frozenset[str] = frozenset()) -> int:
        if n in depth:
            return depth[n]
        if n in seen:  # a cycle: the inventory warns about it; draw it flat
            return 0
        d = 1 + max((level(m, seen | {n}) for m in needs[n]), default=-1)
        depth[n] = d
        return d

    for n in nodes:
        level(n)
    top = max(depth.values())
    layers: dict[int, list[str]] = {}
    for n in nodes:
        layers.setdefault(top - depth[n], []).append(n)
    box_w, box_h, gap_y = 130, 30, 60
    width = max(len(v) for v in layers.values()) * (box_w + 20) + 20
    height = len(layers) * (box_h + gap_y)
    pos: dict[str, tuple[float, float]] = {}
    for row, names in sorted(layers.items()):
        for col, n in enumerate(sorted(names)):
            pos[n] = (20 + col * (box_w + 20), 10 + row * (box_h + gap_y))
    role = {n: "affected" for n in affected} | {n: "at-risk" for n in at_risk}
    if root:
        role[root] = "root"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="dependency graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>',
    ]
    for a, b in edges:
        (ax, ay), (bx, by) = pos[a], pos[b]
        parts.append(
            f'<line class="edge" x1="{ax + box_w / 2:.0f}" y1="{ay + box_h:.0f}" '
            f'x2="{bx + box_w / 2:.0f}" y2="{by:.0f}" marker-end="url(#arrow)"/>'
        )
    for n in nodes:
        x, y = pos[n]
        cls = role.get(n, "node")
        tip = f"{n}: {cls}" if cls != "node" else n
        parts.append(
            f'<g class="{cls}" data-service="{escape(n)}"><title>{escape(tip)}</title>'
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6"/>'
            f'<text x="{x + box_w / 2}" y="{y + 19}" text-anchor="middle">'
            f"{escape(n[:18])}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)
