"""A `Notification` as a Discord webhook payload: one embed, cut to Discord's limits.

Pure functions, no I/O. Limits are Discord's documented ones
(https://discord.com/developers/docs/resources/message#embed-object-embed-limits),
enforced here: `discord-webhook` checks none of them.
Text from logs may hold `@everyone` or `<@id>`: `allowed_mentions` with an
empty `parse` list means Discord resolves no mention at all, and mentions are
also broken with a zero-width space so they do not even render as one.
"""

from __future__ import annotations

from dataclasses import dataclass

from logvigil.core.events import Severity
from logvigil.core.text import ELLIPSIS, ZWSP, disarm_mentions, truncate
from logvigil.core.timeutil import iso_z
from notify.base import Notification, NotificationKind

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
    """`text` mentions neutralised and cut to `limit` characters, ending in `…` when cut."""
    return truncate(disarm_mentions(text), limit)


@dataclass(frozen=True, slots=True)
class DiscordMessage:
    """The JSON payload and, when the report did not fit, the file to attach."""

    payload: dict
    attachment: tuple[str, bytes] | None = None


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
    title = cut(n.title, TITLE_MAX)
    truncated |= title != disarm_mentions(n.title)
    description = n.summary
    if n.markdown and not n.sections and not n.summary:
        description = n.markdown
    desc = cut(description, DESCRIPTION_MAX)
    truncated |= desc != disarm_mentions(description)
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
        name = cut(section.name, FIELD_NAME_MAX) or ZWSP
        value = cut(section.value, FIELD_VALUE_MAX) or ZWSP
        truncated |= value != disarm_mentions(section.value or ZWSP)
        if len(name) + len(value) > budget:
            room = budget - len(name)
            if room < 16:
                truncated = True
                break
            value = value[: room - 1] + ELLIPSIS
            truncated = True
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
    attachment = None
    if n.markdown and (truncated or n.kind is NotificationKind.REPORT):
        data = n.markdown.encode("utf-8")[:ATTACHMENT_MAX_BYTES]
        attachment = (n.attachment_name, data)
        payload["attachments"] = [{"id": 0, "filename": n.attachment_name}]
    return DiscordMessage(payload, attachment)


def embed_size(embed: dict) -> int:
    """The characters Discord counts towards the 6,000 total of an embed."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", ""))
    total += len(embed.get("author", {}).get("name", ""))
    for f in embed.get("fields", []):
        total += len(f["name"]) + len(f["value"])
    return total
