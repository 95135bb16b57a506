"""A suite's scores for people and for programs: rich tables (`render`) and JSON (`to_json`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from logvigil.core.timeutil import iso_z
from logvigil.evaluation.llmscore import LLMMetrics
from logvigil.evaluation.scoring import (
    DETECT_WITHIN,
    MATCH_HORIZON,
    SILENCE_DETECT_WITHIN,
    FaultOutcome,
    SuiteMetrics,
    detect_within,
    percentile,
)
from logvigil.evaluation.suite import SuiteReport


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def fmt_duration(d: timedelta | None) -> str:
    """`45 s`, `2 min`, `1 h 5 min`; `-` for None."""
    if d is None:
        return "-"
    s = round(d.total_seconds())
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min" + (f" {s} s" if s else "")
    h, m = divmod(m, 60)
    return f"{h} h" + (f" {m} min" if m else "")


def _mean(values: tuple[float, ...] | tuple[int, ...]) -> float | None:
    return sum(values) / len(values) if values else None


def llm_json(m: LLMMetrics) -> dict[str, Any]:
    """The model's metrics as JSON-able data, with the requirements' verdicts."""
    return {
        "model": m.model,
        "investigations": m.investigations,
        "unasked": m.unasked,
        "usable": m.usable,
        "usable_share": m.usable_share,
        "degraded": dict(m.degraded),
        "root_answers": m.root_answers,
        "agreed": m.agreed,
        "accepted": m.accepted,
        "disagreed": m.disagreed,
        "agreement": m.agreement,
        "calls": m.calls,
        "valid_calls": m.valid_calls,
        "exact_counts": m.exact_counts,
        "over_context": m.over_context,
        "tokens_per_investigation": _mean(m.tokens),
        "seconds_per_investigation": _mean(m.seconds),
        "seconds_per_call_p50": percentile(m.call_seconds, 50),
        "seconds_per_call_p95": percentile(m.call_seconds, 95),
        "requirements": [
            {"name": r.name, "passed": r.passed, "detail": r.detail} for r in m.requirements()
        ],
    }


def _investigations(incidents: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each incident's report as the model left it: degraded or not, and every question."""
    out = []
    for i in incidents:
        report = i.get("report")
        if isinstance(report, Mapping) and report.get("model", "none") != "none":
            out.append(
                {
                    "incident": i.get("id"),
                    "degraded": report.get("degraded"),
                    "tokens": report.get("tokens", {}),
                    "duration_s": report.get("duration_s"),
                    "model_calls": report.get("model_calls", []),
                }
            )
    return out


def render_llm(m: LLMMetrics, out: Console) -> None:
    """The model's lines of the text report."""
    ok, bad = "[green]✓[/]", "[red]✗[/]"
    p50, p95 = percentile(m.call_seconds, 50), percentile(m.call_seconds, 95)
    tokens, seconds = _mean(m.tokens), _mean(m.seconds)
    degraded = ", ".join(f"{k} {n}" for k, n in m.degraded.items()) or "none"
    out.print(
        f"[bold]model[/] {escape(m.model)}: {m.investigations} investigations"
        + (f" ({m.unasked} more with nothing to ask)" if m.unasked else "")
        + ", usable answers "
        f"{m.usable}/{m.investigations} ({_pct(m.usable_share)}), degraded: {degraded}; "
        f"root question answered {m.root_answers}: agreed {m.agreed} "
        f"({_pct(m.agreement)}), accepted {m.accepted}, disagreed {m.disagreed}; "
        f"{m.valid_calls}/{m.calls} calls schema-valid, {m.exact_counts} counted with the "
        f"server's tokenizer; "
        + (f"{tokens:.0f} tokens and {seconds:.1f} s per investigation, " if tokens else "")
        + (f"{p50:.2f} s per call (p95 {p95:.2f} s)" if p50 is not None and p95 else "no calls")
    )
    for req in m.requirements():
        out.print(f"  {ok if req.passed else bad} {req.name} ({req.detail})")


def outcome_json(o: FaultOutcome) -> dict[str, Any]:
    """One fault's outcome as JSON-able data."""
    return {
        "id": o.fault.id,
        "kind": o.fault.kind.value,
        "service": o.fault.service,
        "host": o.fault.host,
        "at": iso_z(o.fault.at),
        "detection": o.detection.value,
        "latency_s": None if o.latency is None else o.latency.total_seconds(),
        "deadline_s": detect_within(o.fault).total_seconds(),
        "incidents": list(o.incidents),
        "detected_by": o.detected_by,
        "expected_root": o.fault.root,
        "suspected_root": o.suspected_root,
        "root_ok": o.root_ok,
        "report_root": o.report_root,
        "report_root_ok": o.report_root_ok,
        "impact_found": o.impact_found,
        "impact_expected": o.impact_expected,
    }


def metrics_json(m: SuiteMetrics) -> dict[str, Any]:
    """The metrics as JSON-able data, with the requirements' verdicts."""

    def secs(d: timedelta | None) -> float | None:
        return None if d is None else d.total_seconds()

    return {
        "faults": m.faults,
        "detected": m.detected,
        "detected_in_time": m.in_time,
        "recall": m.recall,
        "false_incidents": m.false_incidents,
        "false_incidents_per_day": round(m.false_per_day, 3),
        "hours": m.hours,
        "ttd_p50_s": secs(m.ttd_p50),
        "ttd_p95_s": secs(m.ttd_p95),
        "incidents_per_fault": m.incidents_per_fault,
        "root_accuracy": m.root_accuracy,
        "report_root_accuracy": m.report_root_accuracy,
        "impact_coverage": m.impact_coverage,
        "requirements": {r.name: r.passed for r in m.requirements()},
        "passed": m.passed,
    }


def to_json(report: SuiteReport) -> dict[str, Any]:
    """The report as JSON-able data: per scenario and overall metrics, outcomes and thresholds."""
    return {
        "thresholds": {
            "detect_within_s": DETECT_WITHIN.total_seconds(),
            "silence_detect_within_s": SILENCE_DETECT_WITHIN.total_seconds(),
            "match_horizon_s": MATCH_HORIZON.total_seconds(),
        },
        "passed": report.passed,
        "overall": metrics_json(report.overall),
        "scenarios": [
            {
                "name": r.name,
                "description": r.description,
                "passed": r.passed,
                "error": r.error,
                "metrics": metrics_json(r.score.metrics) if r.score else None,
                "faults": [outcome_json(o) for o in r.score.outcomes] if r.score else [],
                "false_incidents": list(r.score.false_incidents) if r.score else [],
            }
            | ({"investigations": _investigations(r.incidents)} if report.llm is not None else {})
            for r in report.results
        ],
    } | ({"llm": llm_json(report.llm)} if report.llm is not None else {})


def render(report: SuiteReport, console: Console | None = None) -> None:
    """Print the report as rich tables: scenarios, then faults, then the requirements."""
    out = console if console is not None else Console()
    ok, bad = "[green]✓[/]", "[red]✗[/]"

    t = Table(title="scenarios", title_justify="left")
    for col in ("scenario", "faults", "detected", "in time", "false/day", "inc/fault", "root", ""):
        t.add_column(col, justify="left" if col == "scenario" else "right")
    for r in report.results:
        if r.score is None:
            t.add_row(escape(r.name), "", "", "", "", "", "", bad)
            continue
        m = r.score.metrics
        t.add_row(
            escape(r.name),
            str(m.faults),
            _pct(m.recall),
            f"{m.in_time}/{m.faults}",
            f"{m.false_per_day:.2f} ({m.false_incidents})",
            "-" if m.incidents_per_fault is None else f"{m.incidents_per_fault:.1f}",
            _pct(m.root_accuracy),
            ok if r.passed else bad,
        )
    out.print(t)

    f = Table(title="faults", title_justify="left")
    for col in ("scenario", "fault", "kind", "on", "detection", "after", "incidents", "root"):
        f.add_column(col)
    for r in report.results:
        if r.score is None:
            continue
        for o in r.score.outcomes:
            colour = {"in time": "green", "late": "yellow", "missed": "red"}[o.detection.value]
            if o.root_ok is None:
                root = escape(o.suspected_root or "-")
            else:
                want = o.fault.root or f"host {o.fault.host}"
                mark = ok if o.root_ok else f"{bad} (expected {escape(want)})"
                root = f"{escape(o.suspected_root or 'none')} {mark}"
            f.add_row(
                escape(r.name),
                escape(o.fault.id),
                o.fault.kind.value,
                escape(o.fault.service or f"host {o.fault.host}"),
                f"[{colour}]{o.detection.value}[/]",
                fmt_duration(o.latency),
                ", ".join(o.incidents) or "-",
                root,
            )
    out.print(f)

    for r in report.results:
        if r.error:
            out.print(f"[red]{escape(r.name)}: {escape(r.error)}[/]")
        elif r.score is not None and r.score.false_incidents:
            by_id = {str(i.get("id")): i for i in r.incidents}
            for iid in r.score.false_incidents:
                inc = by_id.get(iid, {})
                what = "; ".join(
                    f"{t.get('detector')} {t.get('service') or t.get('host')}: {t.get('summary')}"
                    for t in inc.get("triggers") or ()
                )
                out.print(
                    f"[yellow]{escape(r.name)}: false incident {escape(iid)} at "
                    f"{escape(str(inc.get('opened_at')))}: {escape(what)}[/]"
                )

    m = report.overall
    out.print(
        f"[bold]overall[/]: {m.faults} faults, recall {_pct(m.recall)}, "
        f"time to detect p50 {fmt_duration(m.ttd_p50)} / p95 {fmt_duration(m.ttd_p95)}, "
        f"{m.false_per_day:.2f} false incidents/day over {m.hours:.0f} h, "
        f"{'-' if m.incidents_per_fault is None else f'{m.incidents_per_fault:.2f}'} "
        f"incidents/fault, root accuracy {_pct(m.root_accuracy)}, report root accuracy "
        f"{_pct(m.report_root_accuracy)}, impact coverage {_pct(m.impact_coverage)}"
    )
    for req in m.requirements():
        out.print(f"  {ok if req.passed else bad} {req.name} ({req.detail})")
    if report.llm is not None:
        render_llm(report.llm, out)
    errors = sum(r.error is not None for r in report.results)
    if errors:
        out.print(f"  {bad} {errors} scenario(s) could not be scored")
    out.print(
        f"[dim]thresholds: detected within {fmt_duration(DETECT_WITHIN)} "
        f"(silence {fmt_duration(SILENCE_DETECT_WITHIN)}); incidents count for a fault until "
        f"{fmt_duration(MATCH_HORIZON)} after it ends[/]"
    )
