"""`render_markdown(report)`: the report as Markdown, for the terminal, Discord and e-mail.

Log text is hostile: it may contain backticks, Markdown, HTML or `@everyone`.
Every piece of it goes through `code_span` (inline) or `code_block` (fenced),
which pick a fence longer than any backtick run in the text and neutralise
mentions (`@everyone`, `@here`, `<@123>`, `<#123>`, `<@&123>`) with a zero-width
space after the `@`, so a log line can neither break the layout nor ping
anyone. Our own prose (service names, summaries built from templates) is
escaped with `escape_text`.
"""

from __future__ import annotations

import re

from investigate.model import Report, TimelineEntry, confidence_label
from logvigil.core.text import disarm_mentions, truncate

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>~])")
_BACKTICKS = re.compile(r"`+")


def escape_text(text: str, *, strip: bool = True) -> str:
    """Prose safe for Markdown: special characters escaped, mentions neutralised, one line."""
    text = " ".join(str(text).split()) if strip else re.sub(r"\s+", " ", str(text))
    return disarm_mentions(_MD_SPECIAL.sub(r"\\\1", text))


def code_span(text: str) -> str:
    """An inline code span that holds `text` whatever backticks it contains."""
    text = disarm_mentions(" ".join(str(text).split()))
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(lines: list[str]) -> str:
    """A fenced block of `lines`; the fence is longer than any backtick run inside."""
    # One log line stays one line: an embedded newline cannot start Markdown of its own.
    body = "\n".join(disarm_mentions(line.replace("\r", " ").replace("\n", " ")) for line in lines)
    longest = max((len(m) for m in _BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{body}\n{fence}"


def _ts(e: TimelineEntry) -> str:
    return e.at.strftime("%Y-%m-%d %H:%M:%S")


def _where(service: str | None, host: str | None) -> str:
    if service and host:
        return f"**{escape_text(service)}** on {escape_text(host)}"
    if service:
        return f"**{escape_text(service)}**"
    return f"host **{escape_text(host or '?')}**"


def _summary(text: str) -> str:
    """A summary built from log templates: prose escaped, and short."""
    return escape_text(truncate(" ".join(str(text).split()), 400))


def render_markdown(report: Report) -> str:
    """The report as Markdown with sections; deterministic for a given report."""
    out: list[str] = [f"## Incident {report.incident_id}: {escape_text(report.title)}", ""]
    if report.degraded:
        out += [f"> deterministic report: {escape_text(report.degraded)}", ""]

    out.append("### Root cause")
    rc = report.root_cause
    if rc is None or report.no_root_cause:
        out.append("**No root cause found.**")
        why = [s for s in report.certain if s.startswith("no root cause found")]
        if why:
            out.append(_summary(why[0][len("no root cause found") :].lstrip(": ")))
    else:
        label = confidence_label(rc.confidence)
        out.append(f"{_where(rc.service, rc.host)}: {_summary(rc.summary)}")
        ev = f" (evidence {', '.join(rc.evidence)})" if rc.evidence else ""
        out.append(f"Confidence: {label} ({rc.confidence:.2f}){ev}")
    out.append("")

    out.append("### Critical failure")
    cf = report.critical_failure
    if cf is None:
        out.append("none recorded")
    else:
        tpl = f" (template #{cf.template_id})" if cf.template_id is not None else ""
        out.append(f"{_ts(cf)} {_where(cf.service, cf.host)}{tpl}: {code_span(cf.summary[:400])}")
    out.append("")

    out.append("### Impact")
    if not report.impact:
        out.append("no service in the blast radius")
    for i in report.impact:
        depth = f", depth {i.depth}" if i.depth is not None else ""
        ev = f" ({', '.join(i.evidence)})" if i.evidence else ""
        out.append(f"- **{escape_text(i.service)}**: {i.status}{depth}: {_summary(i.summary)}{ev}")
    out.append("")

    out.append("### Timeline")
    for e in report.timeline:
        who = escape_text(e.service or "") + (f"@{escape_text(e.host)}" if e.host else "")
        out.append(f"- {_ts(e)} {disarm_mentions(who)}: {code_span(e.summary[:300])}")
    if not report.timeline:
        out.append("no entries")
    out.append("")

    out.append("### Evidence")
    for ev in report.evidence:
        tpl = f" template #{ev.template_id}" if ev.template_id is not None else ""
        counts = ""
        if ev.count_before is not None or ev.count_during is not None:
            counts = f", {ev.count_before or 0} lines before / {ev.count_during or 0} during"
        out.append(
            f"- **{ev.id}** {escape_text(ev.service or '')}"
            f"{' on ' + escape_text(ev.host) if ev.host else ''}{tpl}{counts}"
        )
        if ev.template:
            out.append(f"  {code_span(ev.template[:300])}")
        if ev.note:
            out.append(f"  {code_span(ev.note[:300])}")
        if ev.samples:
            out.append("")
            out.append(code_block(list(ev.samples)))
    if not report.evidence:
        out.append("none")
    out.append("")

    out.append("### Certain")
    out += [f"- {_summary(s)}" for s in report.certain] or ["- nothing"]
    out.append("")
    out.append("### Possible")
    out += [f"- {_summary(s)}" for s in report.possible] or ["- nothing"]
    out.append("")

    out.append("### Suggested actions")
    out += [f"- {_action(a)}" for a in report.suggested_actions] or ["- none"]
    out.append("")

    tokens = ", ".join(f"{k} {v}" for k, v in sorted(report.tokens.items()))
    footer = [
        f"model {code_span(report.model)}",
        f"prompt {code_span(report.prompt_version)}",
        f"{report.duration_s:.2f} s",
    ]
    if tokens:
        footer.append(f"tokens: {tokens}")
    if report.created_at is not None:
        footer.append(report.created_at.strftime("%Y-%m-%d %H:%M:%S UTC"))
    out.append("---")
    out.append(" · ".join(footer) + f" · replay: `investigate --incident {report.incident_id}`")
    return "\n".join(out) + "\n"


def _action(text: str) -> str:
    """Our actions hold commands in backticks: keep those spans, escape the prose around."""
    parts = re.split(r"(`[^`]*`)", " ".join(text.split()))
    return "".join(
        code_span(p[1:-1])
        if p.startswith("`") and p.endswith("`") and len(p) > 1
        else escape_text(p, strip=False)
        for p in parts
    )
