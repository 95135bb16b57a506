"""Storms: one primitive firing again and again on one host, as one incident.

An OOM killer that runs for days kills whatever is biggest at the moment
(httpd, then python, then sendmail...), and the kernel writes one line per kill.
The problem is the host's memory, not each victim, so the incident layer
treats the repeated firing of a primitive as a *storm*: one incident, updated
while the storm goes on, resolved only after the storm has been quiet for
`IncidentConfig.storm_quiet_minutes` (6 h by default, the episode boundary of
the labelled real logs: "episodes are split at quiet gaps of more than 6
hours"). A new episode after that much quiet is a new incident.

Which findings belong to one storm (`storm_key`):

- a primitive of a *host-wide* kind (`IncidentConfig.storm_host_kinds`: memory,
  disks, file systems, the kernel, the NIC, the clock) on one host, whatever the
  victim service: the service a kernel line is attributed to is only the
  victim or the messenger, the failing thing is the host;
- any other primitive kind (a unit failing, a program segfaulting, a
  certificate expiring) on one host *and* one service: two units that fail
  are two problems, each needs its own page.

An incident is *in a storm* once one storm key has fired on at least two
different ticks (`storms`): a single OOM kill, or a burst of kills in one
minute, is an event, resolved after the ordinary quiet period, so a kill of
another process an hour and a half later opens a new incident and pages. A
firing on a later tick is the evidence that the trouble persists.

A repeated firing does not add a finding (one finding per cooldown key); it is
recorded in the stored finding's evidence (`firings`, `last_fired_at`), which
is what survives a restart and what the report shows ("fired 37 times").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

from logvigil.core.findings import Finding
from logvigil.core.timeutil import iso_z, parse_iso_or_none

#: Finding kinds that name a cause rather than a symptom.
PRIMITIVE_KINDS = frozenset(
    {
        "oom_kill",
        "out_of_memory",
        "disk_full",
        "inode_full",
        "fs_readonly",
        "read_only_fs",
        "fs_error",
        "too_many_open_files",
        "restart_loop",
        "unit_failed",
        "io_error",
        "disk_error",
        "segfault",
        "core_dump",
        "kernel_panic",
        "hung_task",
        "cert_expired",
        "time_jump",
    }
)

#: Primitive kinds about a resource of the whole host: their storm gathers every
#: victim on the host. The kernel picks an OOM victim by size, a full disk fails
#: whichever service writes next, an I/O or file-system error hits whoever reads.
DEFAULT_HOST_WIDE_KINDS: tuple[str, ...] = (
    "oom_kill",
    "out_of_memory",
    "disk_full",
    "inode_full",
    "read_only_fs",
    "fs_readonly",
    "fs_error",
    "io_error",
    "disk_error",
    "kernel_panic",
    "hung_task",
    "nic_hang",
    "conntrack_full",
    "raid_degraded",
    "overheat",
    "time_jump",
)

#: Evidence keys of a finding that fired more than once in its incident.
FIRINGS = "firings"
LAST_FIRED_AT = "last_fired_at"

#: A storm key: (host, kind, service), service None for a host-wide kind.
StormKey = tuple[str, str, str | None]


def is_primitive(f: Finding) -> bool:
    """True for a finding that names a cause: a known primitive kind or the primitive detector."""
    return (f.kind is not None and f.kind in PRIMITIVE_KINDS) or f.detector.startswith("primitive")


def storm_key(f: Finding, host_wide: Collection[str]) -> StormKey | None:
    """The storm `f` belongs to, or None for a finding that cannot storm (not a
    primitive, or without a kind or a host to tie the storm to)."""
    if f.kind is None or f.host is None or not is_primitive(f):
        return None
    return (f.host, f.kind, None if f.kind in host_wide else f.service)


def last_fired(f: Finding) -> datetime:
    """When `f` last fired: its `last_fired_at` evidence, else the tick that found it."""
    recorded = parse_iso_or_none(f.evidence.get(LAST_FIRED_AT))
    return f.at if recorded is None else max(recorded, f.at)


def firings(f: Finding) -> int:
    """How many detector firings `f` stands for (1 until it repeated)."""
    n = f.evidence.get(FIRINGS)
    return n if isinstance(n, int) and n >= 1 else 1


def with_firing(f: Finding, at: datetime) -> Finding:
    """`f` after one more firing at `at` (a repeat of its cooldown key)."""
    evidence = dict(f.evidence)
    evidence[FIRINGS] = firings(f) + 1
    evidence[LAST_FIRED_AT] = iso_z(max(last_fired(f), at))
    return dataclasses.replace(f, evidence=evidence)


def fold_repeats(
    findings: Sequence[Finding], repeats: Iterable[Finding]
) -> tuple[tuple[Finding, ...], frozenset[str]]:
    """Record each primitive in `repeats` as a firing of the finding of `findings` with
    its key; returns the findings and the keys that changed. Other repeats (a detector
    that fires every tick without a kind) are left out: they only refresh the incident."""
    by_key = {f.key: i for i, f in enumerate(findings)}
    out = list(findings)
    changed: set[str] = set()
    for r in sorted(repeats, key=lambda r: r.at):
        i = by_key.get(r.key)
        if i is None or not is_primitive(r):
            continue
        out[i] = with_firing(out[i], r.at)
        changed.add(r.key)
    return tuple(out), frozenset(changed)


def storms(findings: Iterable[Finding], host_wide: Iterable[str]) -> Mapping[StormKey, datetime]:
    """The storm keys among `findings` that fired on two ticks or more, each with its
    last firing. A tick is a finding's `at` or a recorded later firing."""
    wide = frozenset(host_wide)
    ticks: dict[StormKey, set[datetime]] = {}
    for f in findings:
        key = storm_key(f, wide)
        if key is not None:
            ticks.setdefault(key, set()).update({f.at, last_fired(f)})
    return {k: max(t) for k, t in ticks.items() if len(t) >= 2}


def storm_keys(findings: Iterable[Finding], host_wide: Iterable[str]) -> frozenset[StormKey]:
    """Every storm key among `findings`, storming or not."""
    wide = frozenset(host_wide)
    return frozenset(k for f in findings if (k := storm_key(f, wide)) is not None)
