"""A `Notification` as a Discord webhook payload: one embed, cut to Discord's limits.

Pure functions, no I/O. Limits are Discord's documented ones
(https://discord.com/developers/docs/resources/message#embed-object-embed-limits),
enforced here: `discord-webhook` checks none of them.

Every text of a notification is plain text holding names and lines from the
logs, and Discord renders Markdown in an embed's title, description and field
values: a log line carrying `[Reset your SSO password here](https://evil.example/sso)`
would be a working disguised link. So every text is made inert here:

- prose (title, summary, section names and values) goes through
  `investigate.mdtext.escape_text`: Markdown characters escaped (links, emphasis,
  spoilers, headings, quotes, angle-bracket forms) and URLs in code spans, where
  Discord links nothing;
- a `code` section (log lines, the replay command) is one code span per line
  (`discord_code`): backticks inside become `ˋ`, since Discord's parser opens a
  code block at any three backticks, so a line holding ``` cannot break out;
- texts are cut before they are escaped (`fit`), never inside an escape or a
  code span, and end with `…` when cut.

The embed carries no URL, image or author link of its own: a link in it could
only come from LogVigil's configuration, and none is configured. Mentions:
`allowed_mentions` with an empty `parse` list means Discord resolves no mention
at all, and mentions are also broken with a zero-width space so they do not
even render as one.
"""

from __future__ import annotations

from dataclasses import dataclass

from investigate.mdtext import discord_code, escape_text, fit
from logvigil.core.events import Severity
from logvigil.core.text import ZWSP, disarm_mentions, truncate
from logvigil.core.timeutil import iso_z
from notify.base import Notification, NotificationKind, Section

CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_NAME_MAX = 256
EMBED_TOTAL_MAX = 6000
EMBEDS_MAX = 10
#: Discord refuses uploads above 10 MiB on unboosted servers; the report is kept far below.
ATTACHMENT_MAX_BYTES = 8 * 1024 * 1024
MARKDOWN_TYPE = "text/markdown; charset=utf-8"
PNG_TYPE = "image/png"


#: Embed colour by severity (RGB as an integer).
SEVERITY_COLOURS: dict[Severity, int] = {
    Severity.DEBUG: 0x95A5A6,
    Severity.INFO: 0x3498DB,
    Severity.NOTICE: 0x3498DB,
    Severity.WARNING: 0xF1C40F,
    Severity.ERROR: 0xE67E22,
    Severity.CRITICAL: 0xE74C3C,
    Severity.ALERT: 0x992D22,
    Severity.EMERGENCY: 0x71368A,
}
RESOLVED_COLOUR = 0x2ECC71
NEUTRAL_COLOUR = 0x7289DA


def cut(text: str, limit: int) -> str:
    """`text` mentions neutralised and cut to `limit` characters, ending in `…` when cut
    (for our own texts, which hold no Markdown: the footer)."""
    return truncate(disarm_mentions(text), limit)


def prose(text: str) -> str:
    """Plain text as inert Discord Markdown, line by line."""
    return "\n".join(escape_text(line) for line in str(text).splitlines()) or ""


def code_lines(text: str) -> str:
    """Each line of `text` a Discord code span."""
    return "\n".join(discord_code(line) for line in str(text).splitlines() if line.strip())


def render_value(section: Section, limit: int) -> tuple[str, bool]:
    """A section's value rendered inert within `limit` characters; whether it was cut."""
    render = code_lines if section.code else prose
    whole = render(section.value)
    value = fit(section.value, limit, render)
    return (value or ZWSP), value != whole


@dataclass(frozen=True, slots=True)
class DiscordMessage:
    """The JSON payload and the files to attach, in `payload["attachments"]`'s order: the
    full report when the embed could not hold it, the incident's chart when there is one
    (shown as the embed's image)."""

    payload: dict
    files: tuple[tuple[str, bytes, str], ...] = ()  # (file name, bytes, content type)


def colour(n: Notification) -> int:
    if n.kind is NotificationKind.RESOLVED:
        return RESOLVED_COLOUR
    if n.severity is None:
        return NEUTRAL_COLOUR
    return SEVERITY_COLOURS[n.severity]


def render(n: Notification) -> DiscordMessage:
    """The webhook payload for `n`: one embed within every limit, mentions disabled.

    The full Markdown report is attached as a file when the embed had to be
    cut (description, a field, or the field count) and there is a report.
    """
    truncated = False
    title = fit(n.title, TITLE_MAX, escape_text)
    truncated |= title != escape_text(n.title)
    desc = fit(n.summary, DESCRIPTION_MAX, prose)
    truncated |= desc != prose(n.summary)
    # A message with no text of its own: the report goes as the attachment.
    truncated |= bool(n.markdown and not n.sections and not n.summary)
    footer_text = f"LogVigil · {n.kind.value}"
    if n.incident_id is not None:
        footer_text += f" · incident {n.incident_id}"
    footer = cut(footer_text, FOOTER_MAX)
    budget = EMBED_TOTAL_MAX - len(title) - len(desc) - len(footer)
    fields: list[dict] = []
    for section in n.sections:
        if len(fields) == FIELDS_MAX:
            truncated = True
            break
        name = fit(section.name, FIELD_NAME_MAX, escape_text) or ZWSP
        truncated |= name != (escape_text(section.name) or ZWSP)
        room = min(FIELD_VALUE_MAX, budget - len(name))
        if room < 16:
            truncated = True
            break
        value, was_cut = render_value(section, room)
        truncated |= was_cut
        budget -= len(name) + len(value)
        fields.append({"name": name, "value": value, "inline": section.inline})
    embed: dict = {"title": title, "color": colour(n), "footer": {"text": footer}}
    if desc:
        embed["description"] = desc
    if fields:
        embed["fields"] = fields
    if n.created_at is not None:
        embed["timestamp"] = iso_z(n.created_at)
    payload: dict = {
        "username": "LogVigil",
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }
    files: list[tuple[str, bytes, str]] = []
    if n.markdown and (truncated or n.kind is NotificationKind.REPORT):
        data = n.markdown.encode("utf-8")[:ATTACHMENT_MAX_BYTES]
        files.append((n.attachment_name, data, MARKDOWN_TYPE))
    if n.picture:
        name = picture_name(n)
        files.append((name, n.picture, PNG_TYPE))
        embed["image"] = {"url": f"attachment://{name}"}
    if files:
        payload["attachments"] = [{"id": i, "filename": f[0]} for i, f in enumerate(files)]
    return DiscordMessage(payload, tuple(files))


def picture_name(n: Notification) -> str:
    """The chart's file name: Discord shows an attachment in the embed by this name."""
    return f"incident-{n.incident_id}.png" if n.incident_id is not None else "incident.png"


def embed_size(embed: dict) -> int:
    """The characters Discord counts towards the 6,000 total of an embed."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", ""))
    total += len(embed.get("author", {}).get("name", ""))
    for f in embed.get("fields", []):
        total += len(f["name"]) + len(f["value"])
    return total
