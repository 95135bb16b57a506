"""The faults the generator injects: their kinds, and the lines each one writes or silences."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial

from logvigil.core.timeutil import iso_z
from logvigil.evaluation.synth.homelab import (
    BOT_USERS,
    HOST_IPS,
    HOSTS,
    MINUTE,
    PG_DUPLICATE_KEY,
    REPOS,
    SCAN_PATHS,
    SERVICE_HOSTS,
    USERS,
    Line,
    activity,
    nextcloud_not_found,
    random_ip,
    scaled,
    scanner_probe,
    service_line,
    ssh_attempt,
)
from logvigil.evaluation.synth.machines import BOOT_READY, reboot_lines, suspend_and_resume
from logvigil.evaluation.synth.storms import (
    OOM_STORM_VICTIMS,
    oom_storm_lines,
    sshd_failure_lines,
    sshd_scan_lines,
)


class FaultKind(StrEnum):
    """What can go wrong. See `Fault` for the lines each one writes."""

    OOM_CASCADE = "oom_cascade"
    DISK_FULL = "disk_full"
    SILENT_SERVICE = "silent_service"
    SILENT_HOST = "silent_host"
    NEW_ERROR_TEMPLATE = "new_error_template"
    ERROR_SPIKE = "error_spike"
    NOISE_BURST = "noise_burst"
    BENIGN_WARNING = "benign_warning"
    NIGHT_QUIET = "night_quiet"
    CLEAN_REBOOT = "clean_reboot"
    UNCLEAN_REBOOT = "unclean_reboot"
    SUSPEND = "suspend"
    SSHD_SCAN = "sshd_scan"
    SSHD_FAILURE = "sshd_failure"
    OOM_STORM = "oom_storm"

    @property
    def pages(self) -> bool:
        """Whether a human must be paged for it. Noise, a benign warning and the ordinary life
        of machines (quiet nights, clean reboots, suspends, internet scanners) must not."""
        return self not in _BACKGROUND

    @property
    def on_host(self) -> bool:
        """Whether it is about a whole host rather than one service."""
        return _NEEDS[self] == (False, True)

    @property
    def is_silence(self) -> bool:
        return self in (FaultKind.SILENT_SERVICE, FaultKind.SILENT_HOST)


#: Kinds that must not page: what happens on healthy machines.
_BACKGROUND = frozenset(
    {
        FaultKind.NOISE_BURST,
        FaultKind.BENIGN_WARNING,
        FaultKind.NIGHT_QUIET,
        FaultKind.CLEAN_REBOOT,
        FaultKind.SUSPEND,
        FaultKind.SSHD_SCAN,
    }
)

#: What each kind needs: (a service, a host). A host alone is enough for some kinds.
_NEEDS: Mapping[FaultKind, tuple[bool, bool]] = {
    FaultKind.OOM_CASCADE: (True, False),
    FaultKind.DISK_FULL: (True, False),
    FaultKind.SILENT_SERVICE: (True, False),
    FaultKind.SILENT_HOST: (False, True),
    FaultKind.NEW_ERROR_TEMPLATE: (True, False),
    FaultKind.ERROR_SPIKE: (True, False),
    FaultKind.NOISE_BURST: (False, True),
    FaultKind.BENIGN_WARNING: (True, False),
    FaultKind.NIGHT_QUIET: (True, False),
    FaultKind.CLEAN_REBOOT: (False, True),
    FaultKind.UNCLEAN_REBOOT: (False, True),
    FaultKind.SUSPEND: (False, True),
    FaultKind.SSHD_SCAN: (False, True),
    FaultKind.SSHD_FAILURE: (True, False),
    FaultKind.OOM_STORM: (True, False),
}

#: `night_quiet`: the hours (of the log's own clock) in which the service is silent.
NIGHT_FROM, NIGHT_UNTIL = 23, 7
#: A resumed host's services log again this long after the resume's first line.
_RESUMED = timedelta(seconds=5)

#: OOM victims: process name, pid, systemd unit, and who fails when it is gone.
_OOM_VICTIMS: Mapping[str, tuple[str, int, str, tuple[str, ...]]] = {
    "postgres": ("postgres", 2811, "postgresql@15-main.service", ("nextcloud", "gitea", "nginx")),
    "redis": ("redis-server", 1187, "redis-server.service", ("nextcloud", "nginx")),
}
#: "No space left on device" as each service writes it.
_DISK_FULL: Mapping[str, tuple[str, ...]] = {
    "postgres": ('ERROR:  could not extend file "base/16384/24576": No space left on device',),
    "nextcloud": (
        "file_put_contents(): Write of 8192 bytes failed with errno=28 No space left on device "
        "at /var/www/nextcloud/lib/private/Files/Storage/Local.php#589",
    ),
    "backup": (
        "Fatal: unable to save snapshot: write /srv/backup/restic/data/3f/"
        "3f9c2a7d1e: no space left on device",
    ),
    "gitea": (
        "Failed to write log file /var/lib/gitea/log/gitea.log: write /var/lib/gitea/log/"
        "gitea.log: no space left on device",
    ),
}
#: A never-seen ERROR each service might start writing.
_NEW_ERRORS: Mapping[str, str] = {
    "postgres": (
        'ERROR:  could not read block 1437 in file "base/16384/24601": read only 0 of 8192 bytes'
    ),
    "nextcloud": (
        'OCP\\Lock\\LockedException: "files/9f2b6c01e4d7a3b8" is locked, existing lock on file: '
        "exclusive"
    ),
    "gitea": "Unable to open repository: object not found",
    "nginx": "SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number)",
}
#: A new WARNING that is harmless: noticed, stored, never paged.
_BENIGN_WARNINGS: Mapping[str, tuple[str, ...]] = {
    "postgres": (
        'WARNING:  database "nextcloud" has a collation version mismatch',
        "DETAIL:  The database was created using collation version 2.31, but the operating "
        "system provides version 2.36.",
    ),
    "nextcloud": ("The current PHP memory limit is below the recommended value of 512MB.",),
    "redis": (
        "WARNING Memory overcommit must be enabled! Without it, a background save or replication "
        "may fail under low memory condition.",
    ),
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected failure: `kind` on `service` (or `host`), from `start` for `duration`.

    The lines it writes, by kind:

    - `oom_cascade`: the kernel's OOM-killer lines on the victim's host (service
      `kernel`: attribution gives them to the victim) and systemd's unit
      failure; the victim stays silent for `duration`, then recovers. Its
      dependants log connection-refused errors and nginx returns 502s.
    - `disk_full`: the service's own "No space left on device" error, about
      once a minute (a backup job: once at each hourly run).
    - `silent_service` / `silent_host`: nothing; the service's (host's) lines stop.
    - `new_error_template`: an ERROR the service never wrote before, a few times.
    - `error_spike`: the service's usual error, 20-60 times a minute.
    - `noise_burst`: thousands of sshd brute-force failures on the host (and a
      web scanner's 404s when the host is web-01) within minutes.
    - `benign_warning`: a WARNING the service never wrote before, with each connection.
    - `night_quiet`: nothing; the service is silent from 23:00 to 07:00 every night
      within the fault (a service used only by day). Must not page.
    - `clean_reboot`: the host's orderly reboot at `start` (logind "System is
      rebooting.", its units stopping, "Reached target ... Shutdown", "Shutting
      down.", journald's "Journal stopped"), silence, and at `end` its boot (the
      kernel's "Linux version ..." banner, "systemd ... running in system mode",
      its units starting; on nas-01 also the boot-only daemons cloud-init,
      multipathd, udisksd and apport). Its services log again once booted. Must
      not page.
    - `unclean_reboot`: the host's lines stop at `start` (a crash, no shutdown
      sequence) and at `end` it boots, its root file system replaying its journal
      ("EXT4-fs (sda2): recovery complete", "orphan cleanup on readonly fs"),
      journald finding its file "corrupted or uncleanly shut down", postgres
      recovering. Expected from the boot on (`at` is `end`): a crash can only be
      told when the host is back. Root: the host.
    - `suspend`: at `start` the host suspends to RAM (logind, systemd-sleep
      "Suspending system...", the kernel's "PM: suspend entry (deep)"), silence,
      and at `end` it resumes (the kernel's held-back freeze lines, "ACPI: PM:
      Low-level resume complete", "PM: suspend exit", "System resumed."). Must not
      page.
    - `sshd_scan`: the internet scanning the host's sshd all along the fault, in
      bursts: every connection logs "error: Could not load host key: ..." (a
      harmless configuration leftover) and its pre-authentication end ("Connection
      closed by ... [preauth]", "Did not receive identification string ...",
      invalid users, failed passwords). Must not page.
    - `sshd_failure`: sshd (service `sshd`, on `host`) is restarted at `start`
      and cannot bind ("error: Bind to port 22 on 0.0.0.0 failed: Address already
      in use.", "fatal: Cannot bind any address.", the unit failed); it logs
      nothing until started again at `end`.
    - `oom_storm`: the kernel OOM-kills one of the service's processes (nextcloud's
      php-fpm workers) about every four minutes for the whole fault, each with its
      full report (the victim named in "Out of memory: Killed process ..."; the
      task that invoked the killer is often another); nginx answers each killed
      request with a 502. One fault is one episode.
    """

    id: str
    kind: FaultKind
    start: datetime
    duration: timedelta = timedelta(minutes=30)
    service: str | None = None
    host: str | None = None

    def __post_init__(self) -> None:
        kind = FaultKind(self.kind)
        object.__setattr__(self, "kind", kind)
        if self.start.tzinfo is None:
            raise ValueError(f"fault {self.id}: start must carry a time zone, got: {self.start}")
        if self.duration < MINUTE:
            raise ValueError(f"fault {self.id}: duration must be at least 1 minute")
        needs_service, needs_host = _NEEDS[kind]
        if needs_service:
            if self.service not in SERVICE_HOSTS:
                raise ValueError(
                    f"fault {self.id}: {kind} needs a service of the homelab "
                    f"({', '.join(SERVICE_HOSTS)}), got: {self.service}"
                )
            hosts = SERVICE_HOSTS[self.service]
            if self.host is None:
                object.__setattr__(self, "host", hosts[0])
            elif self.host not in hosts:
                raise ValueError(
                    f"fault {self.id}: {self.service} does not run on {self.host} "
                    f"(it runs on {', '.join(hosts)})"
                )
        if needs_host and self.host not in HOSTS:
            raise ValueError(
                f"fault {self.id}: {kind} needs a host ({', '.join(HOSTS)}), got: {self.host}"
            )
        table = {
            FaultKind.OOM_CASCADE: _OOM_VICTIMS,
            FaultKind.DISK_FULL: _DISK_FULL,
            FaultKind.NEW_ERROR_TEMPLATE: _NEW_ERRORS,
            FaultKind.BENIGN_WARNING: _BENIGN_WARNINGS,
            FaultKind.SSHD_FAILURE: {"sshd": ()},
            FaultKind.OOM_STORM: OOM_STORM_VICTIMS,
        }.get(kind)
        if table is not None and self.service not in table:
            raise ValueError(
                f"fault {self.id}: {kind} is modelled for {', '.join(table)}, got: {self.service}"
            )

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    @property
    def affected(self) -> tuple[str, ...]:
        """Services that log errors because of it, besides its own."""
        if self.kind is FaultKind.OOM_CASCADE and self.service is not None:
            return _OOM_VICTIMS[self.service][3]
        if self.kind is FaultKind.OOM_STORM:
            return ("nginx",)
        return ()

    def expected(self) -> dict[str, object] | None:
        """What a scenario expects of it (`expect.faults` item), or None when it must not page."""
        if not self.kind.pages:
            return None
        out: dict[str, object] = {"id": self.id, "kind": self.kind.value}
        if not self.kind.on_host:
            out["service"] = self.service
        out["host"] = self.host
        if self.kind is FaultKind.UNCLEAN_REBOOT:  # told at the boot that follows the crash
            out["at"] = iso_z(self.end, "seconds")
            out["end"] = iso_z(self.end + MINUTE, "seconds")
        else:
            out["at"] = iso_z(self.start, "seconds")
            out["end"] = iso_z(self.end, "seconds")
        if not self.kind.on_host:
            out["root"] = self.service
        if self.affected:
            out["affected"] = list(self.affected)
        return out

    def silences(self, line: Line) -> bool:
        """True when `line` is not written because of this fault."""
        if self.kind in (FaultKind.CLEAN_REBOOT, FaultKind.UNCLEAN_REBOOT):
            return line.host == self.host and self.start <= line.ts < self.end + BOOT_READY
        if self.kind is FaultKind.SUSPEND:
            return line.host == self.host and self.start <= line.ts < self.end + _RESUMED
        if self.kind is FaultKind.SSHD_FAILURE:  # down until started again, within the minute
            return (
                line.host == self.host
                and line.inventory_service == "sshd"
                and self.start <= line.ts < self.end + MINUTE
            )
        if not self.start <= line.ts < self.end:
            return False
        if self.kind is FaultKind.NIGHT_QUIET:
            return (
                line.host == self.host
                and line.inventory_service == self.service
                and (line.ts.hour >= NIGHT_FROM or line.ts.hour < NIGHT_UNTIL)
            )
        if self.kind is FaultKind.SILENT_HOST:
            return line.host == self.host
        if self.kind in (FaultKind.SILENT_SERVICE, FaultKind.OOM_CASCADE):
            return line.host == self.host and line.inventory_service == self.service
        return False

    def lines(self, rng: random.Random, t: datetime) -> Iterator[Line]:
        """The lines it writes in the minute starting at `t` (`start <= t <= end`)."""
        writer = _WRITERS.get(self.kind)
        if writer is not None:
            yield from writer(self, rng, t)


def _oom_lines(f: Fault, rng: random.Random, t: datetime) -> Iterator[Line]:
    assert f.service is not None and f.host is not None
    comm, pid, unit, dependants = _OOM_VICTIMS[f.service]
    n = int((t - f.start) / MINUTE)
    if t == f.end:  # back: systemd restarted it
        yield Line(t, f.host, "systemd", "info", f"Started {unit}.", (("UNIT", unit),))
        if f.service == "postgres":
            for i, msg in enumerate(
                (
                    "database system was interrupted; last known up at "
                    f"{f.start - timedelta(minutes=3):%Y-%m-%d %H:%M:%S} UTC",
                    "database system was not properly shut down; automatic recovery in progress",
                    "redo starts at 2/4A1C3B8",
                    "redo done at 2/4B02F10",
                    "database system is ready to accept connections",
                )
            ):
                yield service_line(t + timedelta(seconds=2 + i), f.service, "info", msg, f.host)
        else:
            yield service_line(
                t + timedelta(seconds=2), f.service, "notice", "Ready to accept connections"
            )
        return
    if n == 0:
        s = t + timedelta(seconds=0.4)
        total = rng.randint(8_000_000, 9_000_000)
        anon = total - rng.randint(400_000, 900_000)
        kernel = [
            (
                "warning",
                f"{comm} invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), "
                "order=0, oom_score_adj=0",
            ),
            (
                "info",
                "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
                f"global_oom,task_memcg=/system.slice/{unit},task={comm},pid={pid},uid=113",
            ),
            (
                "error",
                f"Out of memory: Killed process {pid} ({comm}) total-vm:{total}kB, "
                f"anon-rss:{anon}kB, file-rss:0kB, shmem-rss:102400kB, UID:113 "
                f"pgtables:16820kB oom_score_adj:0",
            ),
            (
                "info",
                f"oom_reaper: reaped process {pid} ({comm}), now anon-rss:0kB, file-rss:0kB, "
                "shmem-rss:102400kB",
            ),
        ]
        for i, (sev, msg) in enumerate(kernel):
            yield Line(s + timedelta(milliseconds=i), f.host, "kernel", sev, msg)
        yield Line(
            s + timedelta(seconds=1),
            f.host,
            "systemd",
            "warning",
            f"{unit}: A process of this unit has been killed by the OOM killer.",
            (("UNIT", unit),),
        )
        yield Line(
            s + timedelta(seconds=1.1),
            f.host,
            "systemd",
            "error",
            f"{unit}: Failed with result 'oom-kill'.",
            (("UNIT", unit),),
        )
    # dependants fail from the first minute, each request
    sec = lambda: t + timedelta(seconds=1.5 + rng.random() * 58)  # noqa: E731
    a = activity(t)
    db_ip = HOST_IPS.get(f.host, "192.168.1.10")
    port = 5432 if f.service == "postgres" else 6379
    if "nextcloud" in dependants:
        for _ in range(2 + scaled(rng, 1, 6, a)):
            if f.service == "postgres":
                msg = (
                    "Doctrine\\DBAL\\Exception: Failed to connect to the database: An exception "
                    "occurred in the driver: SQLSTATE[08006] [7] could not connect to server: "
                    f'Connection refused Is the server running on host "{f.host}" ({db_ip}) and '
                    f"accepting TCP/IP connections on port {port}?"
                )
            else:
                msg = "RedisException: Connection refused"
            yield service_line(sec(), "nextcloud", "error", msg)
            yield _nginx_502(
                rng, sec(), "/index.php/apps/files", "fastcgi://unix:/run/php/php8.2-fpm.sock:"
            )
    if "gitea" in dependants:
        for _ in range(1 + scaled(rng, 0, 3, a)):
            yield service_line(
                sec(),
                "gitea",
                "error",
                f"GetUserByName: pq: could not connect to server: dial tcp {db_ip}:{port}: "
                "connect: connection refused",
            )
            yield _nginx_502(
                rng, sec(), f"/{rng.choice(USERS)}/{rng.choice(REPOS)}", "http://127.0.0.1:3000/"
            )


def _nginx_502(rng: random.Random, t: datetime, path: str, upstream: str) -> Line:
    return service_line(
        t,
        "nginx",
        "error",
        f"upstream prematurely closed connection while reading response header from upstream, "
        f"client: {random_ip(rng, True)}, server: cloud.example.net, "
        f'request: "GET {path} HTTP/1.1", upstream: "{upstream}", host: "cloud.example.net"',
    )


def _disk_full_lines(f: Fault, rng: random.Random, t: datetime) -> Iterator[Line]:
    assert f.service is not None and f.host is not None
    if t >= f.end:
        return
    if f.service == "backup":
        if t != f.start and t.minute != 0:
            return
        unit = "restic-backup.service"
        s = t + timedelta(seconds=30 + rng.random() * 20)
        yield service_line(s, "backup", "error", _DISK_FULL["backup"][0], f.host)
        yield Line(
            s + timedelta(seconds=0.2),
            f.host,
            "systemd",
            "error",
            f"{unit}: Main process exited, code=exited, status=1/FAILURE",
            (("UNIT", unit),),
        )
        yield Line(
            s + timedelta(seconds=0.3),
            f.host,
            "systemd",
            "error",
            f"{unit}: Failed with result 'exit-code'.",
            (("UNIT", unit),),
        )
        return
    for _ in range(rng.randint(1, 3)):
        msg = rng.choice(_DISK_FULL[f.service])
        yield service_line(
            t + timedelta(seconds=rng.random() * 60), f.service, "error", msg, f.host
        )


def _new_error_lines(f: Fault, rng: random.Random, t: datetime) -> Iterator[Line]:
    assert f.service is not None
    n = int((t - f.start) / MINUTE)
    if t < f.end and (n == 0 or rng.random() < 0.1):
        yield service_line(
            t + timedelta(seconds=rng.random() * 60),
            f.service,
            "error",
            _NEW_ERRORS[f.service],
            f.host,
        )


def _spike_lines(f: Fault, rng: random.Random, t: datetime) -> Iterator[Line]:
    if t >= f.end:
        return
    for _ in range(rng.randint(20, 60)):
        s = t + timedelta(seconds=rng.random() * 60)
        if f.service == "nextcloud":
            yield nextcloud_not_found(rng, s)
        elif f.service == "postgres":
            yield service_line(
                s,
                "postgres",
                "error",
                PG_DUPLICATE_KEY,
            )
        elif f.service == "nginx":
            yield from scanner_probe(rng, s, "/.env")
        else:
            assert f.service is not None
            yield service_line(s, f.service, "error", f"{f.service}: request failed", f.host)


def _noise_lines(f: Fault, rng: random.Random, t: datetime) -> Iterator[Line]:
    assert f.host is not None
    if t >= f.end:
        return
    for _ in range(rng.randint(150, 250)):
        s = t + timedelta(seconds=rng.random() * 60)
        ip, port = random_ip(rng), rng.randint(1024, 65535)
        user = rng.choice(("root", *BOT_USERS))
        if user == "root":
            yield service_line(
                s,
                "sshd",
                "info",
                "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
                f"ruser= rhost={ip}  user=root",
                f.host,
            )
            yield service_line(
                s, "sshd", "info", f"Failed password for root from {ip} port {port} ssh2", f.host
            )
            if rng.random() < 0.2:
                yield service_line(
                    s,
                    "sshd",
                    "error",
                    f"error: maximum authentication attempts exceeded for root from {ip} "
                    f"port {port} ssh2 [preauth]",
                    f.host,
                )
            yield service_line(
                s,
                "sshd",
                "info",
                f"Disconnected from authenticating user root {ip} port {port} [preauth]",
                f.host,
            )
        else:
            yield from ssh_attempt(rng, s, f.host)
    if f.host == "web-01":
        for _ in range(rng.randint(100, 200)):
            yield from scanner_probe(
                rng, t + timedelta(seconds=rng.random() * 60), rng.choice(SCAN_PATHS)
            )


def _benign_lines(f: Fault, rng: random.Random, t: datetime) -> Iterator[Line]:
    assert f.service is not None
    if t >= f.end:
        return
    for _ in range(1 + scaled(rng, 0, 3, activity(t))):
        s = t + timedelta(seconds=rng.random() * 60)
        for i, msg in enumerate(_BENIGN_WARNINGS[f.service]):
            yield service_line(s + timedelta(milliseconds=i), f.service, "warning", msg, f.host)


_WRITERS: Mapping[FaultKind, Callable[[Fault, random.Random, datetime], Iterator[Line]]] = {
    FaultKind.OOM_CASCADE: _oom_lines,
    FaultKind.DISK_FULL: _disk_full_lines,
    FaultKind.NEW_ERROR_TEMPLATE: _new_error_lines,
    FaultKind.ERROR_SPIKE: _spike_lines,
    FaultKind.NOISE_BURST: _noise_lines,
    FaultKind.BENIGN_WARNING: _benign_lines,
    FaultKind.CLEAN_REBOOT: partial(reboot_lines, clean=True),
    FaultKind.UNCLEAN_REBOOT: partial(reboot_lines, clean=False),
    FaultKind.SUSPEND: suspend_and_resume,
    FaultKind.SSHD_SCAN: sshd_scan_lines,
    FaultKind.SSHD_FAILURE: sshd_failure_lines,
    FaultKind.OOM_STORM: oom_storm_lines,
}
