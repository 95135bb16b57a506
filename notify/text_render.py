"""A `Notification` as plain text: the console's output and the e-mail's body. Pure."""

from __future__ import annotations

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
