"""How the analysis words what it found: primitive kinds and times of day."""

from __future__ import annotations

from datetime import datetime

PRIMITIVE_LABELS = {
    "oom_kill": "OOM kill",
    "out_of_memory": "out of memory",
    "disk_full": "disk full",
    "inode_full": "no free inodes",
    "fs_readonly": "read-only file system",
    "read_only_fs": "read-only file system",
    "unit_failed": "systemd unit failed",
    "restart_loop": "restart loop",
    "segfault": "segfault",
    "io_error": "I/O error",
    "disk_error": "disk error",
    "too_many_open_files": "too many open files",
    "cert_expired": "certificate expired",
}


def clock(ts: datetime) -> str:
    """`10:00`, or `10:00:07` when the time is not on a whole minute."""
    return ts.strftime("%H:%M:%S") if ts.second or ts.microsecond else ts.strftime("%H:%M")


def label(kind: str | None) -> str:
    """A primitive's kind in words (`oom_kill` -> `OOM kill`); unknown kinds spaced out."""
    return PRIMITIVE_LABELS.get(kind or "", (kind or "").replace("_", " "))


def without_subject(summary: str, service: str | None, host: str | None) -> str:
    """A finding's summary without the subject it starts with (`postgres on db-01: `,
    `postgres: `): the report names the subject beside it."""
    prefixes = []
    if service:
        prefixes += [f"{service} on {host}: "] if host else []
        prefixes.append(f"{service}: ")
    if host:
        prefixes += [f"host {host}: ", f"{host}: "]
    for prefix in prefixes:
        if summary.startswith(prefix):
            return summary[len(prefix) :]
    return summary
