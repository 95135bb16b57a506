"""Suggested actions: the commands an operator runs next, chosen by the root's primitive.

Every command is built by `investigate.shell.sh` from words, each quoted with
`shlex.quote`, and only from names that can be real: a systemd unit name, an
RFC 1123 host name, a kernel process name (`investigate.shell`). A service,
host or process named in the logs as `x;reboot;`id`` cannot be any of those:
the action is then written without its command and says why. Names in the
prose around a command never carry a backtick (`said`), so no text of the
logs can pose as a command in the rendered report.
"""

from __future__ import annotations

import re
from datetime import timedelta

from detector.incidents.root import PRIMITIVE_KINDS, RootCandidate
from investigate.analysis.hypotheses import SPIKE_DETECTORS
from investigate.model import EvidenceItem, ImpactItem
from investigate.shell import PIPE, host_name, process_name, sh, unit_name
from investigate.tools.context import ToolContext
from logvigil.core.findings import Finding
from logvigil.core.text import truncate

#: New-error templates pointed at, at most.
MAX_NEW_TEMPLATES = 3
#: Characters of a name quoted in prose.
MAX_NAME_CHARS = 80

#: A process that died of a fault, in the kernel's, a core dumper's or its own words.
_CRASHES = frozenset({"segfault", "core_dump", "process_crashed"})
#: Kinds whose unit's status and journal come next: it failed, looped or crashed.
_UNIT_TROUBLE = frozenset({"unit_failed", "restart_loop"}) | _CRASHES

#: The kernel's OOM-killer line names its victim's `comm`: "Killed process 2811 (postgres)
#: total-vm:..." (mm/oom_kill.c); the name may itself hold parentheses.
_KILLED = re.compile(r"Killed process \d+ \((.+?)\)(?= total-vm:|,|\s*$)")


def said(name: str | None) -> str:
    """A name from the logs for the prose of an action: one line, bounded, its backticks
    shown as `'` (a backtick would open a command in the rendered report)."""
    text = " ".join(str(name or "").replace("`", "'").split())
    return truncate(text, MAX_NAME_CHARS)


def cmd(*words: str) -> str:
    """A command for an action's text: built by `sh`, between backticks."""
    return f"`{sh(*words)}`"


def unit_of(service: str, ctx: ToolContext) -> str:
    """The systemd unit of `service`: the inventory's first declared unit, else
    `<service>.service` (not checked: see `unit_name`)."""
    spec = ctx.topology.inventory.services.get(service)
    if spec is not None and spec.match is not None and spec.match.units:
        return spec.match.units[0]
    return f"{service}.service"


def victim_of(evidence: list[EvidenceItem], service: str | None, host: str | None) -> str | None:
    """The process the OOM killer named in the sample lines of the root's host (the
    root's own first: the kernel's line may be filed under its victim), if any."""
    for ev in sorted(evidence, key=lambda e: e.service != service):
        if host and ev.host and ev.host != host:
            continue
        for line in ev.samples:
            if m := _KILLED.search(line):
                return m.group(1)
    return None


def actions(
    best: RootCandidate | None,
    own: list[Finding],
    impact: list[ImpactItem],
    findings: list[Finding],
    evidence: list[EvidenceItem],
    ctx: ToolContext,
    no_root: bool,
) -> list[str]:
    """Commands and checks, most specific first, each once (`own` are the root's findings)."""
    out: list[str] = []
    since = (ctx.window.onset - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M")

    def add(text: str) -> None:
        if text not in out:
            out.append(text)

    kinds = {f.kind for f in own if f.kind}
    if best is not None and not no_root:
        svc = best.service
        host = host_name(best.host)
        bad_host = best.host is not None and host is None
        on = f" on {host}" if host else ""
        if bad_host:
            add(
                f"the host name {said(best.host)!r} recorded in the logs cannot be a host "
                "name (RFC 1123): no command is suggested for it; find the machine by hand"
            )
        if best.host_level and host:
            add(
                f"check that {host} is up: {cmd('ping', '-c', '3', host)}, "
                f"{cmd('ssh', host, 'uptime')}"
            )
            add(
                f"after it is back: {cmd('journalctl', '-b', '-1', '-e')} on {host} "
                "for the last boot's end"
            )
        if svc is not None:
            unit = unit_name(unit_of(svc, ctx))
            if unit is None:
                add(
                    f"the unit of {said(svc)!r}, {said(unit_of(svc, ctx))!r}, cannot be a "
                    "systemd unit name (systemd.unit(5)): no systemctl or journalctl command "
                    "is suggested for it"
                )
            if kinds & {"oom_kill", "out_of_memory"}:
                add(
                    f"check memory{on}: {cmd('free', '-m')} and "
                    f"{cmd('ps', 'aux', '--sort=-rss', PIPE, 'head')}"
                )
                if unit:
                    add(
                        f"check the memory limits of {said(svc)}: "
                        f"{cmd('systemctl', 'show', unit, '-p', 'MemoryMax', '-p', 'MemoryHigh')}"
                    )
                    add(
                        f"{cmd('systemctl', 'status', unit)} and "
                        f"{cmd('journalctl', '-u', unit, '--since', since)}{on}"
                    )
                add(
                    cmd(
                        "journalctl", "-k", "--since", since, PIPE,
                        "grep", "-i", "-e", "oom", "-e", "killed process",
                    )
                    + on
                )  # fmt: skip
                victim = victim_of(evidence, svc, best.host)
                if victim is not None:
                    comm = process_name(victim)
                    if comm is not None:
                        add(
                            f"is the killed process running again, and how big: "
                            f"{cmd('ps', '-C', comm, '-o', 'pid,rss,etime,args')}{on}"
                        )
                    else:
                        add(
                            f"the OOM killer's victim is named {said(victim)!r} in the logs, "
                            "which cannot be a process name (at most 15 bytes): no command is "
                            "suggested for it"
                        )
            if kinds & {"disk_full", "inode_full"}:
                add(f"{cmd('df', '-h')} and {cmd('df', '-i')}{on}")
                add(
                    "find what filled it: "
                    f"{cmd('du', '-xh', '/', PIPE, 'sort', '-rh', PIPE, 'head', '-20')}{on}"
                )
                if unit:
                    add(
                        f"free space, then re-run {cmd('systemctl', 'start', unit)} "
                        f"and watch {cmd('journalctl', '-u', unit, '-f')}"
                    )
            if kinds & _UNIT_TROUBLE and unit:
                add(
                    f"{cmd('systemctl', 'status', unit)} and "
                    f"{cmd('journalctl', '-u', unit, '--since', since)}{on}"
                )
            if kinds & _CRASHES:
                add(
                    "the core dumps kept since, if systemd-coredump keeps them: "
                    f"{cmd('coredumpctl', 'list', '--since', since)}{on}"
                )
            if kinds & {"fs_readonly", "read_only_fs", "io_error", "disk_error", "fs_error"}:
                add(
                    f"{cmd('dmesg', '-T', PIPE, 'tail', '-50')} and "
                    f"{cmd('mount', PIPE, 'grep', ' ro,')}{on}; check the disk's SMART status"
                )
            if any(f.detector == "silence" for f in own) and not kinds & PRIMITIVE_KINDS and unit:
                add(f"{cmd('systemctl', 'status', unit)}{on}: is {said(svc)} running?")
                add(f"{cmd('journalctl', '-u', unit, '--since', since)}{on}")
    new_templates = 0
    for f in sorted(
        findings, key=lambda f: (best is None or f.subject != best.subject, f.started_at)
    ):
        if (
            f.detector == "new_template"
            and f.template_id is not None
            and new_templates < MAX_NEW_TEMPLATES
        ):
            new_templates += 1
            ev = next((e for e in evidence if e.template_id == f.template_id), None)
            if ev is not None:
                add(
                    f"read the new error template #{f.template_id} of {said(f.service)} "
                    f"and its sample lines ({ev.id})"
                )
        if f.detector in SPIKE_DETECTORS and f.template_id is not None:
            add(
                f"look at the spike of template #{f.template_id} on {said(f.subject)} "
                f"({cmd('investigate', '--incident', str(ctx.incident.id), '--json')}, evidence)"
            )
    at_risk = [said(i.service) for i in impact if i.status == "at_risk"]
    if at_risk:
        add(f"watch {', '.join(at_risk)}: in the blast radius, still quiet")
    if no_root:
        add(
            "no root cause is supported: compare the lines around the first finding with "
            f"{cmd('logvigil', 'incidents', 'show', str(ctx.incident.id))} and check whether "
            "a dependency is missing from inventory.yaml"
        )
    return out
