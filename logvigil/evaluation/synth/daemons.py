"""What each daemon of the homelab writes when systemd starts or stops it.

The lines are the programs' own (PostgreSQL 15 and Redis 7.0 on Debian 12,
OpenSSH, Gitea 1.21, nfs-utils 2.6, Pi-hole FTL 5, and the Ubuntu server
daemons that only ever log at boot: multipathd, cloud-init, udisksd, apport).
A daemon is a function `(rng, t, host, boot) -> lines` that `machines` calls
when it starts or stops a unit; `boot` says whether the host stopped cleanly,
which PostgreSQL's start-up reports ("database system was shut down at ..." or
"... was interrupted; ... automatic recovery in progress").
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from logvigil.evaluation.synth.homelab import HOST_IPS, Line

Daemon = Callable[[random.Random, datetime, str, "Boot"], Iterator[Line]]


@dataclass(frozen=True, slots=True)
class Boot:
    """What a boot knows: when the host went down and whether it stopped cleanly."""

    since: datetime
    clean: bool


@dataclass(frozen=True, slots=True)
class Unit:
    """A systemd unit started at boot and stopped at shutdown, with its daemon's own lines."""

    name: str
    description: str
    start: Daemon | None = None
    stop: Daemon | None = None


def after(t: datetime, s: float) -> datetime:
    return t + timedelta(seconds=s)


def pid(rng: random.Random) -> int:
    return rng.randint(300, 1200)


# --------------------------------------------------------------------------- daemons


def postgres_start(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    def pg(s: float, msg: str) -> Line:
        return Line(after(t, s), host, "postgres", "info", msg)

    yield pg(
        0.0,
        "starting PostgreSQL 15.6 (Debian 15.6-0+deb12u1) on x86_64-pc-linux-gnu, compiled by "
        "gcc (Debian 12.2.0-14) 12.2.0, 64-bit",
    )
    yield pg(0.01, 'listening on IPv4 address "0.0.0.0", port 5432')
    yield pg(0.02, 'listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"')
    last = f"{boot.since:%Y-%m-%d %H:%M:%S} UTC"
    if boot.clean:
        yield pg(0.05, f"database system was shut down at {last}")
    else:
        lsn = rng.randint(0x4A00000, 0x4AFFFFF)
        for i, msg in enumerate(
            (
                f"database system was interrupted; last known up at {last}",
                "database system was not properly shut down; automatic recovery in progress",
                f"redo starts at 2/{lsn:X}",
                f"invalid record length at 2/{lsn + 0x1C40:X}: wanted 24, got 0",
                f"redo done at 2/{lsn + 0x1C08:X} system usage: CPU: user: 0.01 s, "
                "system: 0.00 s, elapsed: 0.04 s",
                "checkpoint starting: end-of-recovery immediate wait",
                f"checkpoint complete: wrote {rng.randint(20, 400)} buffers (0.4%); 0 WAL file(s) "
                "added, 0 removed, 1 recycled; write=0.012 s, sync=0.004 s, total=0.021 s",
            )
        ):
            yield pg(0.05 + 0.05 * i, msg)
    yield pg(0.5, "database system is ready to accept connections")


def postgres_stop(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    for i, msg in enumerate(
        (
            "received fast shutdown request",
            "aborting any active transactions",
            f'background worker "logical replication launcher" (PID {rng.randint(600, 900)}) '
            "exited with exit code 1",
            "shutting down",
            "checkpoint starting: shutdown immediate",
            f"checkpoint complete: wrote {rng.randint(3, 300)} buffers (0.1%); 0 WAL file(s) "
            "added, 0 removed, 0 recycled; write=0.004 s, sync=0.002 s, total=0.011 s",
            "database system is shut down",
        )
    ):
        yield Line(after(t, 0.05 * i), host, "postgres", "info", msg)


def redis_start(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    keys = rng.randint(1200, 1600)
    for i, msg in enumerate(
        (
            "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
            f"Redis version=7.0.15, bits=64, commit=00000000, modified=0, pid={pid(rng)}, "
            "just started",
            "Configuration loaded",
            "monotonic clock: POSIX clock_gettime",
            "Running mode=standalone, port=6379.",
            "Server initialized",
            "Loading RDB produced by version 7.0.15",
            f"Done loading RDB, keys loaded: {keys}, keys expired: 0.",
            f"DB loaded from disk: 0.0{rng.randint(10, 99)} seconds",
            "Ready to accept connections tcp",
        )
    ):
        yield Line(after(t, 0.02 * i), host, "redis-server", "notice", msg)


def redis_stop(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    for i, msg in enumerate(
        (
            "Received SIGTERM scheduling shutdown...",
            "User requested shutdown...",
            "Saving the final RDB snapshot before exiting.",
            "DB saved on disk",
            "Removing the pid file.",
            "Redis is now ready to exit, bye bye...",
        )
    ):
        yield Line(after(t, 0.03 * i), host, "redis-server", "notice", msg)


def sshd_start(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    yield Line(t, host, "sshd", "info", "Server listening on 0.0.0.0 port 22.")
    yield Line(after(t, 0.001), host, "sshd", "info", "Server listening on :: port 22.")


def sshd_stop(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    yield Line(t, host, "sshd", "info", "Received signal 15; terminating.")


def gitea_start(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    for i, msg in enumerate(
        (
            "Starting Gitea on PID: 7",
            "Gitea v1.21.7 built with GNU Make 4.4.1, go1.21.7 : bindata, timetzdata, sqlite, "
            "sqlite_unlock_notify",
            "Global init",
            "Listen: http://0.0.0.0:3000",
            "Starting new Web server: tcp:0.0.0.0:3000 on PID: 7",
        )
    ):
        yield Line(after(t, 0.1 * i), host, "gitea", "info", msg)


def gitea_stop(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    yield Line(t, host, "gitea", "info", "Received SIGTERM on 7. Shutting Down...")
    yield Line(after(t, 0.2), host, "gitea", "info", "PID: 7 Gitea Web Finished")


def nfs_start(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    yield Line(t, host, "rpc.mountd", "notice", "Version 2.6.1 starting")
    yield Line(
        after(t, 0.1), host, "kernel", "info", "NFSD: Using nfsdcld client tracking operations."
    )
    yield Line(
        after(t, 0.1),
        host,
        "kernel",
        "info",
        "NFSD: starting 90-second grace period (net f0000000)",
    )


def nfs_stop(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    yield Line(t, host, "rpc.mountd", "notice", "Caught signal 15, un-registering and exiting.")


def pihole_start(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    yield Line(t, host, "pihole-FTL", "info", f"########## FTL started on {host}! ##########")
    yield Line(after(t, 0.01), host, "pihole-FTL", "info", "FTL branch: master")
    yield Line(after(t, 0.02), host, "pihole-FTL", "info", "FTL version: v5.25.1")


def multipathd_start(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    for i, msg in enumerate(
        ("----------start up----------", "read /etc/multipath.conf", "path checkers start up")
    ):
        yield Line(after(t, 0.01 * i), host, "multipathd", "info", msg)


def multipathd_stop(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    yield Line(t, host, "multipathd", "info", "exit (signal)")
    yield Line(after(t, 0.01), host, "multipathd", "info", "--------shut down-------")


def udisksd_start(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    yield Line(t, host, "udisksd", "info", "udisks daemon version 2.9.4 starting")
    yield Line(
        after(t, 0.4),
        host,
        "udisksd",
        "info",
        "Acquired the name org.freedesktop.UDisks2 on the system message bus",
    )


def udisksd_stop(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    yield Line(t, host, "udisksd", "info", "udisks daemon version 2.9.4 exiting")


def apport_start(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    yield Line(t, host, "apport", "info", " * Starting automatic crash report generation: apport")
    yield Line(after(t, 0.05), host, "apport", "info", "   ...done.")


def cloud_init(rng: random.Random, t: datetime, host: str, boot: Boot) -> Iterator[Line]:
    """cloud-init's four stages and its final message (bare metal: no datasource)."""
    version = "Cloud-init v. 23.1.1-0ubuntu0~22.04.1"
    up = 4.8 + rng.random()

    def stamp(s: float) -> str:
        return f"{after(t, s):%a, %d %b %Y %H:%M:%S} +0000. Up {up + s:.2f} seconds."

    stages = ("init-local", "init", "modules:config", "modules:final")
    for i, stage in enumerate(stages):
        yield Line(
            after(t, 1.5 * i),
            host,
            "cloud-init",
            "info",
            f"{version} running '{stage}' at {stamp(1.5 * i)}",
        )
        if stage == "init":
            ip = HOST_IPS.get(host, "192.168.1.2")
            for j, row in enumerate(
                (
                    "ci-info: +++++++++++++++++++++++++++++++++++++++Net device info"
                    "++++++++++++++++++++++++++++++++++++++++",
                    "ci-info: | Device |  Up  |          Address          |      Mask     | Scope"
                    "  |     Hw-Address    |",
                    f"ci-info: | enp2s0 | True |        {ip}        | 255.255.255.0 | global"
                    " | 00:e0:4c:68:12:9a |",
                    "ci-info: |   lo   | True |         127.0.0.1         |   255.0.0.0   |  host"
                    "  |         .         |",
                )
            ):
                yield Line(after(t, 1.5 * i + 0.1 + 0.001 * j), host, "cloud-init", "info", row)
    end = 1.5 * len(stages)
    yield Line(
        after(t, end),
        host,
        "cloud-init",
        "info",
        f"{version} finished at {after(t, end):%a, %d %b %Y %H:%M:%S} +0000. "
        f"Datasource DataSourceNone.  Up {up + end:.2f} seconds",
    )
    yield Line(
        after(t, end + 0.01),
        host,
        "cloud-init",
        "info",
        f"{after(t, end):%Y-%m-%d %H:%M:%S},{rng.randint(100, 999)} - "
        "cc_final_message.py[WARNING]: Used fallback datasource",
    )
