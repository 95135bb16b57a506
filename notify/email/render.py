"""A `Notification` as the HTML alternative of an e-mail. Pure.

The plain-text body is `notify.text_render.render_text`, shared with the console.
"""

from __future__ import annotations

import html

from notify.base import Notification, NotificationKind
from notify.text_render import subject


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
