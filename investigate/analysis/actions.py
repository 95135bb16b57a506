"""Suggested actions: the commands an operator runs next, chosen by the root's primitive."""

from __future__ import annotations

from datetime import timedelta

from detector.incidents.root import PRIMITIVE_KINDS, RootCandidate
from investigate.analysis.hypotheses import SPIKE_DETECTORS
from investigate.model import EvidenceItem, ImpactItem
from investigate.tools.context import ToolContext
from logvigil.core.findings import Finding

#: New-error templates pointed at, at most.
MAX_NEW_TEMPLATES = 3


def unit_of(service: str, ctx: ToolContext) -> str:
    """The systemd unit of `service`: the inventory's first declared unit, else
    `<service>.service`."""
    spec = ctx.topology.inventory.services.get(service)
    if spec is not None and spec.match is not None and spec.match.units:
        return spec.match.units[0]
    return f"{service}.service"


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
        svc, host = best.service, best.host or "its host"
        if best.host_level:
            add(f"check that {best.host} is up: `ping {best.host}`, `ssh {best.host} uptime`")
            add(f"after it is back: `journalctl -b -1 -e` on {best.host} for the last boot's end")
        if svc is not None:
            unit = unit_of(svc, ctx)
            if kinds & {"oom_kill", "out_of_memory"}:
                add(f"check memory on {host}: `free -m` and `ps aux --sort=-rss | head`")
                add(
                    f"check the memory limits of {svc}: "
                    f"`systemctl show {unit} -p MemoryMax -p MemoryHigh`"
                )
                add(
                    f"`systemctl status {unit}` and "
                    f"`journalctl -u {unit} --since '{since}'` on {host}"
                )
                add(
                    f"`journalctl -k --since '{since}' | grep -i -e oom -e 'killed process'` "
                    f"on {host}"
                )
            if kinds & {"disk_full", "inode_full"}:
                add(f"`df -h` and `df -i` on {host}")
                add(f"find what filled it: `du -xh / 2>/dev/null | sort -rh | head -20` on {host}")
                add(
                    f"free space, then re-run `systemctl start {unit}` "
                    f"and watch `journalctl -u {unit} -f`"
                )
            if kinds & {"unit_failed", "restart_loop"}:
                add(
                    f"`systemctl status {unit}` and "
                    f"`journalctl -u {unit} --since '{since}'` on {host}"
                )
            if kinds & {"fs_readonly", "read_only_fs", "io_error", "disk_error", "fs_error"}:
                add(
                    f"`dmesg -T | tail -50` and `mount | grep ' ro,'` on {host}; "
                    "check the disk's SMART status"
                )
            if any(f.detector == "silence" for f in own) and not kinds & PRIMITIVE_KINDS:
                add(f"`systemctl status {unit}` on {host}: is {svc} running?")
                add(f"`journalctl -u {unit} --since '{since}'` on {host}")
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
                    f"read the new error template #{f.template_id} of {f.service} "
                    f"and its sample lines ({ev.id})"
                )
        if f.detector in SPIKE_DETECTORS and f.template_id is not None:
            add(
                f"look at the spike of template #{f.template_id} on {f.subject} "
                f"(`investigate --incident {ctx.incident.id} --json`, evidence)"
            )
    at_risk = [i.service for i in impact if i.status == "at_risk"]
    if at_risk:
        add(f"watch {', '.join(at_risk)}: in the blast radius, still quiet")
    if no_root:
        add(
            "no root cause is supported: compare the lines around the first finding with "
            "`logvigil incidents show` and check whether a dependency is missing "
            "from inventory.yaml"
        )
    return out
