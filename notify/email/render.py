"""A `Notification` as an e-mail: subject, plain-text body and HTML alternative. Pure.

The plain-text body is `notify.text_render.render_text`, shared with the console.
Mail clients turn any URL they see into a link, in plain text as in HTML, so
every URL of a message (they all come from log lines: LogVigil's own messages
carry none) is defanged first (`investigate.mdtext.defang_urls`:
`https://evil.example/sso` -> `hxxps://evil[.]example/sso`): readable, never a
link. The HTML alternative escapes every text (log lines may hold markup) and
shows it preformatted; Markdown in it (the report) is never rendered.
"""

from __future__ import annotations

import html

from investigate.mdtext import defang_urls
from notify.base import Notification, NotificationKind
from notify.text_render import render_text, subject


def mail_subject(n: Notification) -> str:
    """The subject line: one line, URLs defanged."""
    return defang_urls(" ".join(subject(n).split()))


def render_plain(n: Notification) -> str:
    """The plain-text body: `render_text` with its URLs defanged."""
    return defang_urls(render_text(n))


#: The Content-ID of the chart, shown inline by the HTML part (`cid:`).
PICTURE_CID = "incident-chart@logvigil"


def render_html(n: Notification) -> str:
    """HTML alternative; every piece of text is defanged and escaped. With a picture, it is
    shown after the summary from the message's own related part (`cid:`, no remote image)."""

    def e(text: str) -> str:
        return html.escape(defang_urls(text))

    out = [
        "<!DOCTYPE html><html><body>",
        f"<h2>{e(subject(n))}</h2>",
    ]
    if n.summary:
        out.append(f"<p>{e(n.summary)}</p>")
    if n.picture:
        out.append(f'<p><img src="cid:{PICTURE_CID}" alt="lines and errors per minute"></p>')
    if n.sections:
        out.append("<dl>")
        for s in n.sections:
            out.append(f"<dt><b>{e(s.name)}</b></dt><dd><pre>{e(s.value)}</pre></dd>")
        out.append("</dl>")
    if n.markdown and n.kind in (NotificationKind.REPORT, NotificationKind.DIGEST):
        out.append(f"<hr><pre>{e(n.markdown)}</pre>")
    out.append("</body></html>")
    return "\n".join(out)
