"""A synthetic homelab's logs, with faults injected on demand: deterministic and realistic.

Four hosts (`db-01`, `web-01`, `nas-01`, `pi-01`) run the services of the
example `inventory.yaml`: postgres, redis, nextcloud, gitea, nginx, nfs, backup
jobs, pi-hole DNS, sshd and the kernel. Traffic follows the time of day (busy
afternoons, quiet nights); monitoring health checks give some services a
steady cadence; every service has its usual chatter, and some have a low,
steady rate of warnings and errors (nextcloud a few an hour) so that a spike
detector has a real baseline. The noise that drowns people, sshd brute force
and web-scanner probes, is always mixed in.

A `Fault` injects one failure: the lines it adds (the messages the real
software writes) and the lines it silences. Injecting faults never changes
the other lines: the baseline draws from its own random stream and each fault
from a stream of its own, so a scenario differs from its fault-free twin only
where the fault acts. Given the same seed, start and faults, the output is
byte-identical.

Lines carry the identifier the real software logs under (`redis-server`,
`pihole-FTL`, `rpc.mountd`, `restic`), not the inventory's service name:
attribution maps them, as it would on a real journal.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from logvigil.core.timeutil import iso_z

DEMO_START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)

#: Where each inventory service runs (sshd and the kernel run everywhere).
HOSTS: tuple[str, ...] = ("db-01", "web-01", "nas-01", "pi-01")
SERVICE_HOSTS: Mapping[str, tuple[str, ...]] = {
    "postgres": ("db-01",),
    "redis": ("db-01",),
    "nextcloud": ("web-01",),
    "gitea": ("web-01",),
    "nginx": ("web-01",),
    "nfs": ("nas-01",),
    "backup": ("nas-01",),
    "dns": ("pi-01",),
    "sshd": HOSTS,
    "kernel": HOSTS,
}
#: The identifier a service logs under, when it is not the service's name.
IDENTIFIERS: Mapping[str, str] = {
    "redis": "redis-server",
    "nfs": "rpc.mountd",
    "backup": "restic",
    "dns": "pihole-FTL",
}
_SERVICE_OF = {ident: service for service, ident in IDENTIFIERS.items()}

_USERS = ("alice", "bob", "carol", "dave", "erin")
_PATHS = ("/", "/index.php/apps/files", "/remote.php/dav/files/alice", "/status.php", "/login")
_REPOS = ("infra", "dotfiles", "homelab", "website")
_SCANS = ("/wp-login.php", "/.env", "/phpmyadmin/", "/.git/config", "/cgi-bin/luci", "/xmlrpc.php")
_BOTS = ("root", "admin", "test", "oracle", "ubuntu", "pi", "git")
_DOMAINS = (
    "cloud.example.net",
    "git.example.net",
    "github.com",
    "deb.debian.org",
    "api.snapcraft.io",
    "time.cloudflare.com",
    "connectivity-check.ubuntu.com",
)
_IPS = {"db-01": "192.168.1.10", "web-01": "192.168.1.11", "nas-01": "192.168.1.20"}
_PG_DUPLICATE = (
    'ERROR:  duplicate key value violates unique constraint "oc_filecache_extended_pkey"'
)
_MONITOR = "192.168.1.5"  # uptime-kuma: health checks every minute


@dataclass(frozen=True, slots=True)
class Line:
    """One log line. `service` is the identifier logged under; `extra` holds
    additional JSON keys (a journald `UNIT`, for instance), in order."""

    ts: datetime
    host: str
    service: str
    severity: str
    message: str
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def inventory_service(self) -> str:
        """The inventory service this line belongs to (systemd lines: the unit's)."""
        for key, value in self.extra:
            if key == "UNIT":
                return _UNIT_SERVICES.get(value, value)
        return _SERVICE_OF.get(self.service, self.service)

    def to_json(self) -> str:
        obj = {
            "ts": iso_z(self.ts, "milliseconds"),
            "host": self.host,
            "service": self.service,
            "severity": self.severity,
            "message": self.message,
        }
        obj.update(self.extra)
        return json.dumps(obj)


_UNIT_SERVICES = {
    "postgresql@15-main.service": "postgres",
    "redis-server.service": "redis",
    "restic-backup.service": "backup",
    "nginx.service": "nginx",
    "php8.2-fpm.service": "nextcloud",
}


def _line(t: datetime, service: str, severity: str, message: str, host: str | None = None) -> Line:
    host = host if host is not None else SERVICE_HOSTS[service][0]
    return Line(t, host, IDENTIFIERS.get(service, service), severity, message)


def _ip(rng: random.Random, private: bool = False) -> str:
    if private:
        return f"192.168.1.{rng.randint(21, 250)}"
    return (
        f"{rng.randint(11, 220)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def activity(t: datetime) -> float:
    """How busy the homelab is at `t`: 0.25 at 04:00, 1.0 at 16:00 (a smooth day curve)."""
    hour = t.hour + t.minute / 60
    return 0.25 + 0.75 * (1 - math.cos(2 * math.pi * (hour - 4) / 24)) / 2


def _scaled(rng: random.Random, low: int, high: int, a: float) -> int:
    return round(rng.randint(low, high) * a)


# --------------------------------------------------------------------------- the baseline


def _baseline_minute(rng: random.Random, t: datetime) -> Iterator[Line]:
    """Everything the healthy homelab logs in the minute starting at `t`."""
    sec = lambda: t + timedelta(seconds=rng.random() * 60)  # noqa: E731
    a = activity(t)

    # postgres on db-01: checkpoints, connections, a rare known error
    if t.minute % 5 == 0:
        yield _line(sec(), "postgres", "info", "checkpoint starting: time")
        yield _line(
            sec(),
            "postgres",
            "info",
            f"checkpoint complete: wrote {rng.randint(3, 900)} buffers "
            f"({rng.random() * 5:.1f}%); 0 WAL file(s) added, 0 removed, "
            f"{rng.randint(0, 3)} recycled; write={rng.random() * 30:.3f} s, "
            f"sync={rng.random():.3f} s, total={rng.random() * 30:.3f} s",
        )
    for _ in range(1 + _scaled(rng, 0, 3, a)):
        user = rng.choice(("nextcloud", "gitea"))
        yield _line(
            sec(),
            "postgres",
            "info",
            f"connection authorized: user={user} database={user} application_name={user}",
        )
    if rng.random() < 0.02:
        yield _line(
            sec(),
            "postgres",
            "error",
            _PG_DUPLICATE,
        )

    # redis on db-01: RDB snapshots every 15 minutes
    if t.minute % 15 == 0:
        yield _line(sec(), "redis", "notice", "10 changes in 300 seconds. Saving...")
        yield _line(
            sec(), "redis", "notice", f"Background saving started by pid {rng.randint(1000, 60000)}"
        )
        yield _line(sec(), "redis", "notice", "Background saving terminated with success")

    # nginx on web-01: access log (health check, users), rare errors
    yield _line(
        sec(),
        "nginx",
        "info",
        f'{_MONITOR} - - "GET /status.php HTTP/1.1" 200 {rng.randint(150, 170)} "-" '
        '"Uptime-Kuma/1.23.11"',
    )
    for _ in range(_scaled(rng, 2, 11, a)):
        ip = _ip(rng, private=rng.random() < 0.7)
        path = rng.choice(_PATHS)
        status = rng.choices((200, 207, 304, 401), (80, 10, 8, 2))[0]
        yield _line(
            sec(),
            "nginx",
            "info",
            f'{ip} - - "{rng.choice(("GET", "PROPFIND", "PUT"))} {path} HTTP/1.1" {status} '
            f'{rng.randint(120, 90000)} "-" "Mozilla/5.0 (X11; Linux x86_64)"',
        )
    if rng.random() < 0.02:
        yield _line(
            sec(),
            "nginx",
            "error",
            f"client intended to send too large body: {rng.randint(2, 9) * 536870912} bytes, "
            f"client: {_ip(rng, True)}, server: cloud.example.net, "
            f'request: "PUT /remote.php/dav/files/{rng.choice(_USERS)}/backup.tar HTTP/1.1", '
            'host: "cloud.example.net"',
        )
    if rng.random() < 0.3:
        yield from _scanner_probe(rng, sec(), rng.choice(_SCANS))

    # nextcloud (php-fpm) on web-01: logins, a few warnings and errors an hour
    if rng.random() < 0.3 * a:
        yield _line(
            sec(),
            "nextcloud",
            "info",
            f"Login successful: user {rng.choice(_USERS)} from {_ip(rng, True)}",
        )
    if rng.random() < 0.05:
        yield _line(
            sec(),
            "nextcloud",
            "warning",
            f"Could not detect any host in https://cloud.example.net/ocs/v2.php "
            f"(request id {rng.getrandbits(64):016x})",
        )
    if rng.random() < 0.04:
        yield _nextcloud_not_found(rng, sec())

    # gitea on web-01: health check every minute, browsing, failed logins
    yield _line(
        sec(),
        "gitea",
        "info",
        f"router: completed GET /api/healthz for {_MONITOR}:{rng.randint(30000, 65000)}, "
        f"200 OK in {rng.random():.1f}ms",
    )
    for _ in range(_scaled(rng, 0, 3, a)):
        yield _line(
            sec(),
            "gitea",
            "info",
            f"router: completed GET /{rng.choice(_USERS)}/{rng.choice(_REPOS)} for "
            f"{_ip(rng, True)}:{rng.randint(30000, 65000)}, 200 OK in {rng.random() * 80:.1f}ms",
        )
    if rng.random() < 0.015:
        yield _line(
            sec(),
            "gitea",
            "warning",
            f"Failed authentication attempt for {rng.choice(_USERS)} from "
            f"{_ip(rng, True)}:{rng.randint(30000, 65000)}: user's password is invalid",
        )

    # nfs on nas-01: the web server's automounter mounts and unmounts every 10 minutes
    if t.minute % 10 == 3:
        verb = "mount" if (t.minute // 10) % 2 == 0 else "unmount"
        yield _line(
            sec(),
            "nfs",
            "info",
            f"authenticated {verb} request from {_IPS['web-01']}:{rng.randint(600, 1023)} "
            "for /srv/nextcloud (/srv/nextcloud)",
        )

    # backup and cron on nas-01, hourly
    if t.minute == 0:
        yield Line(
            sec(),
            "nas-01",
            "CRON",
            "info",
            "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)",
        )
        yield _line(
            t + timedelta(seconds=30 + rng.random() * 29),
            "backup",
            "info",
            f"snapshot {rng.getrandbits(32):08x} saved: {rng.randint(10, 4000)} files, "
            f"{rng.random() * 900:.2f} MiB added",
        )

    # cron on pi-01: pi-hole's update check every 10 minutes
    if t.minute % 10 == 7:
        yield Line(
            sec(),
            "pi-01",
            "CRON",
            "info",
            '(root) CMD (   PATH="$PATH:/usr/sbin:/usr/local/bin/" pihole updatechecker local)',
        )

    # pi-hole on pi-01: every query, then how it was answered
    for _ in range(1 + _scaled(rng, 0, 3, a)):
        domain = rng.choice(_DOMAINS)
        client = rng.choice((_IPS["web-01"], _IPS["db-01"], _ip(rng, True)))
        at = sec()
        yield _line(at, "dns", "info", f"query[A] {domain} from {client}")
        if domain.endswith("example.net"):
            yield _line(at, "dns", "info", f"cached {domain} is 192.168.1.11")
        else:
            yield _line(at, "dns", "info", f"forwarded {domain} to 1.1.1.1")

    # kernel: the firewall drops internet background radiation on web-01
    if rng.random() < 0.2:
        yield _line(
            sec(),
            "kernel",
            "warning",
            f"[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 "
            f"SRC={_ip(rng)} DST={_IPS['web-01']} LEN=44 TOS=0x00 PREC=0x00 "
            f"TTL={rng.randint(30, 250)} ID={rng.randint(1, 65535)} PROTO=TCP "
            f"SPT={rng.randint(1024, 65535)} DPT={rng.choice((22, 23, 3389, 8080))} "
            "WINDOW=1024 RES=0x00 SYN URGP=0",
            host="web-01",
        )

    # noise: sshd brute force
    if rng.random() < 0.5:
        yield from _ssh_attempt(rng, sec(), rng.choice(("web-01", "nas-01")))
    if rng.random() < 0.02:
        yield _line(
            sec(),
            "sshd",
            "info",
            f"Accepted publickey for alice from {_ip(rng, True)} port 52514 ssh2: "
            "ED25519 SHA256:Jk2q9m0f3vYy4c1xQ8kVh9Zb5wRt7uPz1aN6sLdE0oM",
            host="db-01",
        )


def _nextcloud_not_found(rng: random.Random, t: datetime) -> Line:
    return _line(
        t,
        "nextcloud",
        "error",
        f"Sabre\\DAV\\Exception\\NotFound: File with name "
        f"/Photos/{rng.randint(2019, 2025)}/IMG_{rng.randint(1000, 9999)}.jpg could not be located",
    )


def _scanner_probe(rng: random.Random, t: datetime, path: str) -> Iterator[Line]:
    """A web scanner's request: the access-log 404 and, for a static path, nginx's error line."""
    ip = _ip(rng)
    agent = rng.choice(("Mozilla/5.0 zgrab/0.x", "Mozilla/5.0 (compatible; CensysInspect/1.1)"))
    yield _line(t, "nginx", "info", f'{ip} - - "GET {path} HTTP/1.1" 404 153 "-" "{agent}"')
    if not path.endswith(".php"):
        yield _line(
            t,
            "nginx",
            "error",
            f'open() "/var/www/html{path}" failed (2: No such file or directory), '
            f'client: {ip}, server: _, request: "GET {path} HTTP/1.1", host: "{_IPS["web-01"]}"',
        )


def _ssh_attempt(rng: random.Random, t: datetime, host: str) -> Iterator[Line]:
    ip, user, port = _ip(rng), rng.choice(_BOTS), rng.randint(1024, 65535)
    yield _line(
        t,
        "sshd",
        "info",
        f"Failed password for invalid user {user} from {ip} port {port} ssh2",
        host,
    )
    yield _line(
        t,
        "sshd",
        "info",
        f"Connection closed by invalid user {user} {ip} port {port} [preauth]",
        host,
    )


# --------------------------------------------------------------------------- faults


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

    @property
    def pages(self) -> bool:
        """Whether a human must be paged for it (noise and a benign warning must not)."""
        return self not in (FaultKind.NOISE_BURST, FaultKind.BENIGN_WARNING)

    @property
    def is_silence(self) -> bool:
        return self in (FaultKind.SILENT_SERVICE, FaultKind.SILENT_HOST)


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
}

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
        return ()

    def expected(self) -> dict[str, object] | None:
        """What a scenario expects of it (`expect.faults` item), or None when it must not page."""
        if not self.kind.pages:
            return None
        out: dict[str, object] = {"id": self.id, "kind": self.kind.value}
        if self.kind is not FaultKind.SILENT_HOST:
            out["service"] = self.service
        out["host"] = self.host
        out["at"] = iso_z(self.start, "seconds")
        out["end"] = iso_z(self.end, "seconds")
        if self.kind is not FaultKind.SILENT_HOST:
            out["root"] = self.service
        if self.affected:
            out["affected"] = list(self.affected)
        return out

    def silences(self, line: Line) -> bool:
        """True when `line` is not written because of this fault."""
        if not self.start <= line.ts < self.end:
            return False
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
                yield _line(t + timedelta(seconds=2 + i), f.service, "info", msg, f.host)
        else:
            yield _line(
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
    db_ip = _IPS.get(f.host, "192.168.1.10")
    port = 5432 if f.service == "postgres" else 6379
    if "nextcloud" in dependants:
        for _ in range(2 + _scaled(rng, 1, 6, a)):
            if f.service == "postgres":
                msg = (
                    "Doctrine\\DBAL\\Exception: Failed to connect to the database: An exception "
                    "occurred in the driver: SQLSTATE[08006] [7] could not connect to server: "
                    f'Connection refused Is the server running on host "{f.host}" ({db_ip}) and '
                    f"accepting TCP/IP connections on port {port}?"
                )
            else:
                msg = "RedisException: Connection refused"
            yield _line(sec(), "nextcloud", "error", msg)
            yield _nginx_502(
                rng, sec(), "/index.php/apps/files", "fastcgi://unix:/run/php/php8.2-fpm.sock:"
            )
    if "gitea" in dependants:
        for _ in range(1 + _scaled(rng, 0, 3, a)):
            yield _line(
                sec(),
                "gitea",
                "error",
                f"GetUserByName: pq: could not connect to server: dial tcp {db_ip}:{port}: "
                "connect: connection refused",
            )
            yield _nginx_502(
                rng, sec(), f"/{rng.choice(_USERS)}/{rng.choice(_REPOS)}", "http://127.0.0.1:3000/"
            )


def _nginx_502(rng: random.Random, t: datetime, path: str, upstream: str) -> Line:
    return _line(
        t,
        "nginx",
        "error",
        f"upstream prematurely closed connection while reading response header from upstream, "
        f"client: {_ip(rng, True)}, server: cloud.example.net, "
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
        yield _line(s, "backup", "error", _DISK_FULL["backup"][0], f.host)
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
        yield _line(t + timedelta(seconds=rng.random() * 60), f.service, "error", msg, f.host)


def _new_error_lines(f: Fault, rng: random.Random, t: datetime) -> Iterator[Line]:
    assert f.service is not None
    n = int((t - f.start) / MINUTE)
    if t < f.end and (n == 0 or rng.random() < 0.1):
        yield _line(
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
            yield _nextcloud_not_found(rng, s)
        elif f.service == "postgres":
            yield _line(
                s,
                "postgres",
                "error",
                _PG_DUPLICATE,
            )
        elif f.service == "nginx":
            yield from _scanner_probe(rng, s, "/.env")
        else:
            assert f.service is not None
            yield _line(s, f.service, "error", f"{f.service}: request failed", f.host)


def _noise_lines(f: Fault, rng: random.Random, t: datetime) -> Iterator[Line]:
    assert f.host is not None
    if t >= f.end:
        return
    for _ in range(rng.randint(150, 250)):
        s = t + timedelta(seconds=rng.random() * 60)
        ip, port = _ip(rng), rng.randint(1024, 65535)
        user = rng.choice(("root", *_BOTS))
        if user == "root":
            yield _line(
                s,
                "sshd",
                "info",
                "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
                f"ruser= rhost={ip}  user=root",
                f.host,
            )
            yield _line(
                s, "sshd", "info", f"Failed password for root from {ip} port {port} ssh2", f.host
            )
            if rng.random() < 0.2:
                yield _line(
                    s,
                    "sshd",
                    "error",
                    f"error: maximum authentication attempts exceeded for root from {ip} "
                    f"port {port} ssh2 [preauth]",
                    f.host,
                )
            yield _line(
                s,
                "sshd",
                "info",
                f"Disconnected from authenticating user root {ip} port {port} [preauth]",
                f.host,
            )
        else:
            yield from _ssh_attempt(rng, s, f.host)
    if f.host == "web-01":
        for _ in range(rng.randint(100, 200)):
            yield from _scanner_probe(
                rng, t + timedelta(seconds=rng.random() * 60), rng.choice(_SCANS)
            )


def _benign_lines(f: Fault, rng: random.Random, t: datetime) -> Iterator[Line]:
    assert f.service is not None
    if t >= f.end:
        return
    for _ in range(1 + _scaled(rng, 0, 3, activity(t))):
        s = t + timedelta(seconds=rng.random() * 60)
        for i, msg in enumerate(_BENIGN_WARNINGS[f.service]):
            yield _line(s + timedelta(milliseconds=i), f.service, "warning", msg, f.host)


_WRITERS = {
    FaultKind.OOM_CASCADE: _oom_lines,
    FaultKind.DISK_FULL: _disk_full_lines,
    FaultKind.NEW_ERROR_TEMPLATE: _new_error_lines,
    FaultKind.ERROR_SPIKE: _spike_lines,
    FaultKind.NOISE_BURST: _noise_lines,
    FaultKind.BENIGN_WARNING: _benign_lines,
}


# --------------------------------------------------------------------------- generation


def generate(
    minutes: int = 6 * 60,
    *,
    start: datetime = DEMO_START,
    seed: int = 42,
    faults: Iterable[Fault] = (),
) -> Iterator[Line]:
    """Lines for `minutes` minutes from `start`, in time order, with `faults` injected.

    Raises ValueError when two faults share an id.
    """
    faults = tuple(faults)
    ids = [f.id for f in faults]
    if len(set(ids)) != len(ids):
        raise ValueError(f"fault ids must be unique, got: {', '.join(ids)}")
    rng = random.Random(seed)
    fault_rngs = {f.id: random.Random(f"{seed}:{f.id}") for f in faults}
    for m in range(minutes):
        t = start + timedelta(minutes=m)
        lines = list(_baseline_minute(rng, t))
        acting = [f for f in faults if f.start <= t <= f.end]
        if acting:
            lines = [ln for ln in lines if not any(f.silences(ln) for f in acting)]
            for f in acting:
                lines.extend(
                    ln
                    for ln in f.lines(fault_rngs[f.id], t)
                    if not any(g.silences(ln) for g in acting if g is not f)
                )
        end = t + MINUTE
        yield from sorted((ln for ln in lines if ln.ts < end), key=lambda line: line.ts)


def generate_jsonl(
    minutes: int = 6 * 60,
    *,
    start: datetime = DEMO_START,
    seed: int = 42,
    faults: Iterable[Fault] = (),
) -> Iterator[bytes]:
    """`generate` as JSONL, one encoded line (with its newline) per item."""
    for line in generate(minutes, start=start, seed=seed, faults=faults):
        yield line.to_json().encode() + b"\n"
