"""An incident's title and severity, derived from its findings and root."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from detector.detectors.primitive import SUPERVISORS
from detector.incidents.model import IncidentSeverity, RootRef
from detector.incidents.storm import storm_key
from logvigil.core.findings import Finding
from logvigil.store.schema import NAME_LEN

#: How a finding of a kind reads after its subject ("postgres OOM-killed").
KIND_PHRASES = {
    "oom_kill": "OOM-killed",
    "out_of_memory": "out of memory",
    "disk_full": "disk full",
    "inode_full": "out of inodes",
    "fs_readonly": "filesystem read-only",
    "read_only_fs": "filesystem read-only",
    "fs_error": "filesystem errors",
    "too_many_open_files": "out of file descriptors",
    "restart_loop": "in a restart loop",
    "unit_failed": "unit failed",
    "silent_host": "silent",
    "silent_service": "silent",
    "io_error": "I/O errors",
    "disk_error": "disk errors",
    "segfault": "crashed (segfault)",
    "core_dump": "crashed (core dump)",
    "process_crashed": "crashed",
    "kernel_panic": "kernel panic",
    "kernel_oops": "kernel Oops",
    "cpu_lockup": "CPU lockup",
    "machine_check": "machine-check (hardware) errors",
    "nic_hang": "network adapter hang",
    "conntrack_full": "dropping connections (conntrack table full)",
    "gpu_hang": "GPU hang",
    "raid_degraded": "RAID array degraded",
    "disk_failing": "disk failing (SMART)",
    "overheat": "overheated, shut down",
    "unclean_reboot": "rebooted without shutting down",
    "hung_task": "hung tasks",
    "cert_expired": "certificate expired",
    "time_jump": "clock jumped",
}

#: How a finding of a detector without a kind reads.
DETECTOR_PHRASES = {
    "error_spike": "error spike",
    "new_template": "new error",
    "silence": "silent",
}

#: Services named in a title before "and N more".
TITLE_SERVICES = 3


def describe_finding(f: Finding) -> str:
    """A few words for what happened: the kind's phrase, else the detector's name."""
    if f.kind and f.kind in KIND_PHRASES:
        return KIND_PHRASES[f.kind]
    if f.kind:
        return f.kind.replace("_", " ")
    if f.detector in DETECTOR_PHRASES:
        return DETECTOR_PHRASES[f.detector]
    if f.service is None:
        return "silent" if "silen" in f.detector else f.detector.replace("_", " ")
    return f.detector.replace("_", " ")


def incident_title(
    findings: Sequence[Finding], root: RootRef | None, host_wide: Iterable[str] = ()
) -> str:
    """`postgres OOM-killed on db-01 -> nextcloud, nginx affected`, at most NAME_LEN chars.

    Other victims of the root's own host-wide storm (`storm.storm_key`, kinds in
    `host_wide`) are not "affected" by the root, they are killed by the same
    cause: `httpd OOM-killed on combo (also python, sendmail)`.
    """
    if not findings:
        return "incident without findings"
    if root is None:
        head_finding = min(findings, key=lambda f: (f.started_at, f.subject))
        root = RootRef(head_finding.service, head_finding.host)
    subject = root.service if root.service is not None else f"host {root.host}"
    own = [
        f
        for f in findings
        if f.service == root.service and (root.service is not None or f.host == root.host)
    ]
    cause = min(own, key=lambda f: (f.started_at, f.detector)) if own else findings[0]
    head = f"{subject} {describe_finding(cause)}"
    if root.service is not None and root.host:
        head += f" on {root.host}"
    wide = frozenset(host_wide)
    storm = storm_key(cause, wide)
    same_cause = {
        f.subject
        for f in findings
        if storm is not None and storm[2] is None and storm_key(f, wide) == storm
    }
    also: list[str] = []
    others: list[str] = []
    for f in sorted(findings, key=lambda f: (f.started_at, f.subject)):
        name = f.service if f.service is not None else f"host {f.host}"
        if f.subject == (root.service or f"host:{root.host}"):
            continue
        if f.service in SUPERVISORS:
            continue  # it only wrote the line: a supervisor is never "affected"
        target = also if f.subject in same_cause else others
        if name not in also and name not in others:
            target.append(name)
    if also:
        head += f" (also {_names(also)})"
    if others:
        head += f" -> {_names(others)} affected"
    return head if len(head) <= NAME_LEN else head[: NAME_LEN - 1] + "…"


def _names(names: Sequence[str]) -> str:
    """The first `TITLE_SERVICES` names, then "and N more"."""
    shown = ", ".join(names[:TITLE_SERVICES])
    if len(names) > TITLE_SERVICES:
        shown += f" and {len(names) - TITLE_SERVICES} more"
    return shown


def incident_severity(findings: Sequence[Finding], critical_subjects: int) -> IncidentSeverity:
    """The worst finding's severity; at least CRITICAL from `critical_subjects` subjects on."""
    if not findings:
        return IncidentSeverity.WARNING
    worst = max(f.severity for f in findings)
    if len({f.subject for f in findings}) >= critical_subjects:
        worst = max(worst, IncidentSeverity.CRITICAL)
    return IncidentSeverity(worst)
