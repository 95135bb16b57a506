"""A `Notification` as plain text and as HTML: the console and e-mail bodies. Pure."""

from __future__ import annotations

import html

from notify.base import Notification, NotificationKind

RULE = "-" * 72


def subject(n: Notification) -> str:
    """A one-line subject: `[LogVigil] [critical] postgres OOM-killed on db-01 ...`."""
    parts = ["[LogVigil]"]
    if n.kind is NotificationKind.RESOLVED:
        parts.append("[resolved]")
    elif n.severity is not None:
        parts.append(f"[{n.severity.label}]")
    title = " ".join(n.title.split())
    parts.append(title[:200])
    return " ".join(parts)


def render_text(n: Notification) -> str:
    """Plain text: subject, summary, each section, then the full report when there is one."""
    out = [subject(n)]
    if n.summary:
        out += ["", n.summary]
    for s in n.sections:
        out += ["", f"{s.name}:", s.value]
    if n.markdown and n.kind in (NotificationKind.REPORT, NotificationKind.DIGEST):
        out += ["", RULE, n.markdown.rstrip()]
    return "\n".join(out)


def render_html(n: Notification) -> str:
    """HTML alternative; every piece of text is escaped (log lines may hold markup)."""
    e = html.escape
    out = [
        "<!DOCTYPE html><html><body>",
        f"<h2>{e(subject(n))}</h2>",
    ]
    if n.summary:
        out.append(f"<p>{e(n.summary)}</p>")
    if n.sections:
        out.append("<dl>")
        for s in n.sections:
            out.append(f"<dt><b>{e(s.name)}</b></dt><dd><pre>{e(s.value)}</pre></dd>")
        out.append("</dl>")
    if n.markdown and n.kind in (NotificationKind.REPORT, NotificationKind.DIGEST):
        out.append(f"<hr><pre>{e(n.markdown)}</pre>")
    out.append("</body></html>")
    return "\n".join(out)
