"""The real-log evaluation as a table for a terminal, and as JSON."""

from __future__ import annotations

import statistics
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from logvigil.core.timeutil import iso_z
from logvigil.evaluation.reallogs import RealReport
from logvigil.evaluation.realscore import EventOutcome, FileScore

#: False pages listed per file in the text report (all of them are in the JSON).
SHOWN_FALSE_PAGES = 8


def _minutes(outcomes: list[EventOutcome]) -> list[float]:
    return [e.detected_after.total_seconds() / 60 for e in outcomes if e.detected_after]


def event_json(e: EventOutcome) -> dict[str, Any]:
    return {
        "id": e.event.id,
        "must_page": e.must,
        "kind": e.event.kind,
        "start": iso_z(e.start),
        "found": e.found,
        "named": e.named,
        "detect_minutes": None
        if e.detected_after is None
        else round(e.detected_after.total_seconds() / 60, 1),
        "incidents": list(e.incidents),
    }


def file_json(s: FileScore) -> dict[str, Any]:
    times = _minutes(s.must)
    return {
        "file": s.file,
        "lines": s.lines,
        "days": round(s.days, 2),
        "hosts": s.hosts,
        "incidents": s.incidents,
        "must_page": len(s.must),
        "found": s.found,
        "named": s.named,
        "false_pages": len(s.false_pages),
        "false_per_host_day": round(s.false_per_host_day, 3),
        "max_incidents_per_event": s.max_incidents_per_event,
        "detect_minutes_median": round(statistics.median(times), 1) if times else None,
        "detect_minutes_max": round(max(times), 1) if times else None,
        "events": [event_json(e) for e in s.events],
        "false": [
            {"id": i.id, "opened_at": iso_z(i.opened_at), "root": i.root, "title": i.title}
            for i in s.false_pages
        ],
    }


def to_json(report: RealReport) -> dict[str, Any]:
    s = report.summary
    return {
        "files": [file_json(r.score) for r in report.results if r.score is not None],
        "errors": {str(r.labels): r.error for r in report.results if r.error},
        "total": {
            "must_page": s.must,
            "found": s.found,
            "named": s.named,
            "false_pages": s.false_pages,
            "host_days": round(s.host_days, 2),
            "false_per_host_day": round(s.false_per_host_day, 3),
            "max_incidents_per_event": s.max_incidents_per_event,
        },
        "requirements": [{"requirement": r, "met": ok} for r, ok in s.requirements],
        "passed": report.passed,
    }


def render(report: RealReport, console: Console | None = None) -> None:
    """Print one row per file, the totals, then what was missed and what paged falsely."""
    out = console or Console()
    table = Table(title="real logs against their labels", title_justify="left")
    for col in ("file", "days", "must-page found", "detect (median/max min)", "false pages",
                "false / host-day", "max incidents / event"):  # fmt: skip
        table.add_column(col, justify="left" if col == "file" else "right")
    for r in report.results:
        if r.score is None:
            table.add_row(escape(r.labels.name), "-", "[red]error[/]", "", "", "", "")
            continue
        s = r.score
        times = _minutes(s.must)
        detect = f"{statistics.median(times):.0f} / {max(times):.0f}" if times else "-"
        table.add_row(
            escape(s.file),
            f"{s.days:.1f}",
            f"{s.found} of {len(s.must)}",
            detect,
            str(len(s.false_pages)),
            f"{s.false_per_host_day:.2f}",
            str(s.max_incidents_per_event),
        )
    total = report.summary
    table.add_row(
        "[bold]all[/]",
        f"{sum(s.days for s in total.files):.1f}",
        f"{total.found} of {total.must}",
        "",
        str(total.false_pages),
        f"{total.false_per_host_day:.2f}",
        str(total.max_incidents_per_event),
    )
    out.print(table)
    for r in report.results:
        if r.error:
            out.print(f"[red]{escape(r.labels.name)}:[/] {escape(r.error)}")
            continue
        s = r.score
        assert s is not None
        for e in s.must:
            what = f"{escape(e.event.id)} ({escape(e.event.kind)})"
            if not e.found:
                out.print(f"[yellow]missed[/] {escape(s.file)}: {what}")
            elif not e.named:
                note = "(its incident names another host or culprit)"
                out.print(f"[yellow]misnamed[/] {escape(s.file)}: {what} {note}")
        for inc in s.false_pages[:SHOWN_FALSE_PAGES]:
            out.print(
                f"[yellow]false page[/] {escape(s.file)} #{inc.id} "
                f"{iso_z(inc.opened_at)}: {escape(inc.title)}"
            )
        if len(s.false_pages) > SHOWN_FALSE_PAGES:
            out.print(
                f"  ... and {len(s.false_pages) - SHOWN_FALSE_PAGES} more in {escape(s.file)}"
            )
    for requirement, ok in total.requirements:
        mark = "[green]ok[/]" if ok else "[red]MISSED[/]"
        out.print(f"{mark} {requirement}")
