"""`render_markdown(report)`: the report as Markdown, for files, Discord and e-mail.

Log text is hostile: it may contain backticks, Markdown, HTML, links or
`@everyone`. Every piece of it goes through `investigate.mdtext`: `code_span`
(inline) or `code_block` (fenced), whose fence is longer than any backtick run
in the text, or `escape_text` for names and summaries inside our prose (every
Markdown character escaped, URLs in code spans). Mentions are neutralised with
a zero-width space after the `@`, so a log line can neither break the layout,
show a link nor ping anyone. A suggested action's command is shown as code only
when it is exactly what `investigate.shell.sh` builds (each word quoted).
On a terminal the CLI renders this Markdown (`logvigil.cli.investigate`).
"""

from __future__ import annotations

import re

from investigate.mdtext import code_block, code_span, escape_text
from investigate.model import ModelCall, Report, TimelineEntry, confidence_label
from investigate.shell import is_built_command
from logvigil.core.text import disarm_mentions, truncate

__all__ = ["code_block", "code_span", "escape_text", "render_markdown"]


def _ts(e: TimelineEntry) -> str:
    return e.at.strftime("%Y-%m-%d %H:%M:%S")


def _where(service: str | None, host: str | None) -> str:
    if service and host:
        return f"**{escape_text(service)}** on {escape_text(host)}"
    if service:
        return f"**{escape_text(service)}**"
    return f"host **{escape_text(host or '?')}**"


def _root_line(service: str | None, host: str | None, summary: str) -> str:
    """`**postgres** on db-01: <summary>`, or, when the summary starts by naming the same
    subject (`postgres on db-01 was killed ...`), that subject in bold once."""
    plain = " on ".join(x for x in (service, host) if x) if service else f"host {host or '?'}"
    text = " ".join(str(summary).split())
    if text.startswith(plain) and text[len(plain) : len(plain) + 1] in (" ", ":", "'", ""):
        rest = text[len(plain) :]
        return f"{_where(service, host)}{escape_text(truncate(rest, 400), strip=False)}"
    return f"{_where(service, host)}: {_summary(text)}"


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
            out += ["", _summary(why[0][len("no root cause found") :].lstrip(": "))]
    else:
        label = confidence_label(rc.confidence)
        out.append(_root_line(rc.service, rc.host, rc.summary))
        ev = f" (evidence {', '.join(rc.evidence)})" if rc.evidence else ""
        out += ["", f"Confidence: {label} ({rc.confidence:.2f}){ev}"]
    out.append("")

    out.append("### Critical failure")
    cf = report.critical_failure
    if cf is None:
        out.append("none recorded")
    else:
        tpl = ""
        if cf.template_id is not None and f"template #{cf.template_id}" not in cf.summary:
            tpl = f" (template #{cf.template_id})"
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
        # Each on a line of its own: a trailing backslash is a hard line break.
        for text in (ev.template, ev.note):
            if text:
                out[-1] += "\\"
                out.append(f"  {code_span(text[:300])}")
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

    if report.model_calls:
        out.append("### Model calls")
        out += [_model_call(c) for c in report.model_calls]
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


def _model_call(c: ModelCall) -> str:
    """One focused question: its fate, time, tokens (the server's count) and schema mode."""
    tokens = (
        f"{c.prompt_tokens} + {c.answer_tokens} tokens"
        if c.prompt_tokens is not None
        else f"{c.counted} tokens counted"
        if c.counted is not None
        else "not sent"
    )
    return (
        f"- {c.question}: {escape_text(truncate(c.outcome, 300))} · {c.seconds:.2f} s · "
        f"{tokens} · {c.structured}"
    )


def _action(text: str) -> str:
    """Our actions hold commands in backticks: a span that is exactly a command built by
    `investigate.shell.sh` is shown as code, everything else is escaped prose."""
    parts = re.split(r"(`[^`]*`)", " ".join(text.split()))
    return "".join(
        code_span(p[1:-1])
        if len(p) > 2 and p.startswith("`") and p.endswith("`") and is_built_command(p[1:-1])
        else escape_text(p, strip=False)
        for p in parts
    )
