"""The healthy homelab: its hosts and services, and everything they log in a minute.

Four hosts (`db-01`, `web-01`, `nas-01`, `pi-01`) run the services of the
example `inventory.yaml`. Traffic follows the time of day (`activity`);
monitoring health checks give some services a steady cadence; every service
has its usual chatter, some a low, steady rate of warnings and errors, and the
noise (sshd brute force, web-scanner probes) is always mixed in. The helpers
that write one service's line (`service_line`, `scanner_probe`, ...) are shared
with the faults, which write the same kinds of lines.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

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

#: What the lines pick users, repositories, probed paths, bots and addresses from.
USERS = ("alice", "bob", "carol", "dave", "erin")
_PATHS = ("/", "/index.php/apps/files", "/remote.php/dav/files/alice", "/status.php", "/login")
REPOS = ("infra", "dotfiles", "homelab", "website")
SCAN_PATHS = (
    "/wp-login.php",
    "/.env",
    "/phpmyadmin/",
    "/.git/config",
    "/cgi-bin/luci",
    "/xmlrpc.php",
)
BOT_USERS = ("root", "admin", "test", "oracle", "ubuntu", "pi", "git")
_DOMAINS = (
    "cloud.example.net",
    "git.example.net",
    "github.com",
    "deb.debian.org",
    "api.snapcraft.io",
    "time.cloudflare.com",
    "connectivity-check.ubuntu.com",
)
#: The LAN addresses of the hosts that serve others.
HOST_IPS = {"db-01": "192.168.1.10", "web-01": "192.168.1.11", "nas-01": "192.168.1.20"}
#: postgres' usual, known error (a few an hour; 20-60 a minute in an `error_spike`).
PG_DUPLICATE_KEY = (
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


class Acting(Protocol):
    """What a fault's line writer reads of the fault (`faults.Fault` is one); the writers of
    the modules below `faults` take this rather than the class, which imports them."""

    @property
    def id(self) -> str: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def service(self) -> str | None: ...
    @property
    def host(self) -> str | None: ...


_UNIT_SERVICES = {
    "postgresql@15-main.service": "postgres",
    "redis-server.service": "redis",
    "restic-backup.service": "backup",
    "nginx.service": "nginx",
    "php8.2-fpm.service": "nextcloud",
    "ssh.service": "sshd",
    "nfs-server.service": "nfs",
    "docker.service": "gitea",
}


def service_line(
    t: datetime, service: str, severity: str, message: str, host: str | None = None
) -> Line:
    """A line of inventory `service`, logged under its identifier, on `host` (default: the
    first host it runs on)."""
    host = host if host is not None else SERVICE_HOSTS[service][0]
    return Line(t, host, IDENTIFIERS.get(service, service), severity, message)


def random_ip(rng: random.Random, private: bool = False) -> str:
    """A random internet IPv4 address, or (`private`) one of the LAN's."""
    if private:
        return f"192.168.1.{rng.randint(21, 250)}"
    return (
        f"{rng.randint(11, 220)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def activity(t: datetime) -> float:
    """How busy the homelab is at `t`: 0.25 at 04:00, 1.0 at 16:00 (a smooth day curve)."""
    hour = t.hour + t.minute / 60
    return 0.25 + 0.75 * (1 - math.cos(2 * math.pi * (hour - 4) / 24)) / 2


def scaled(rng: random.Random, low: int, high: int, a: float) -> int:
    """A random count in `[low, high]` scaled by the activity `a`, rounded."""
    return round(rng.randint(low, high) * a)


def baseline_minute(rng: random.Random, t: datetime) -> Iterator[Line]:
    """Everything the healthy homelab logs in the minute starting at `t`."""
    sec = lambda: t + timedelta(seconds=rng.random() * 60)  # noqa: E731
    a = activity(t)

    # postgres on db-01: checkpoints, connections, a rare known error
    if t.minute % 5 == 0:
        yield service_line(sec(), "postgres", "info", "checkpoint starting: time")
        yield service_line(
            sec(),
            "postgres",
            "info",
            f"checkpoint complete: wrote {rng.randint(3, 900)} buffers "
            f"({rng.random() * 5:.1f}%); 0 WAL file(s) added, 0 removed, "
            f"{rng.randint(0, 3)} recycled; write={rng.random() * 30:.3f} s, "
            f"sync={rng.random():.3f} s, total={rng.random() * 30:.3f} s",
        )
    for _ in range(1 + scaled(rng, 0, 3, a)):
        user = rng.choice(("nextcloud", "gitea"))
        yield service_line(
            sec(),
            "postgres",
            "info",
            f"connection authorized: user={user} database={user} application_name={user}",
        )
    if rng.random() < 0.02:
        yield service_line(
            sec(),
            "postgres",
            "error",
            PG_DUPLICATE_KEY,
        )

    # redis on db-01: RDB snapshots every 15 minutes
    if t.minute % 15 == 0:
        yield service_line(sec(), "redis", "notice", "10 changes in 300 seconds. Saving...")
        yield service_line(
            sec(), "redis", "notice", f"Background saving started by pid {rng.randint(1000, 60000)}"
        )
        yield service_line(sec(), "redis", "notice", "Background saving terminated with success")

    # nginx on web-01: access log (health check, users), rare errors
    yield service_line(
        sec(),
        "nginx",
        "info",
        f'{_MONITOR} - - "GET /status.php HTTP/1.1" 200 {rng.randint(150, 170)} "-" '
        '"Uptime-Kuma/1.23.11"',
    )
    for _ in range(scaled(rng, 2, 11, a)):
        ip = random_ip(rng, private=rng.random() < 0.7)
        path = rng.choice(_PATHS)
        status = rng.choices((200, 207, 304, 401), (80, 10, 8, 2))[0]
        yield service_line(
            sec(),
            "nginx",
            "info",
            f'{ip} - - "{rng.choice(("GET", "PROPFIND", "PUT"))} {path} HTTP/1.1" {status} '
            f'{rng.randint(120, 90000)} "-" "Mozilla/5.0 (X11; Linux x86_64)"',
        )
    if rng.random() < 0.02:
        yield service_line(
            sec(),
            "nginx",
            "error",
            f"client intended to send too large body: {rng.randint(2, 9) * 536870912} bytes, "
            f"client: {random_ip(rng, True)}, server: cloud.example.net, "
            f'request: "PUT /remote.php/dav/files/{rng.choice(USERS)}/backup.tar HTTP/1.1", '
            'host: "cloud.example.net"',
        )
    if rng.random() < 0.3:
        yield from scanner_probe(rng, sec(), rng.choice(SCAN_PATHS))

    # nextcloud (php-fpm) on web-01: logins, a few warnings and errors an hour
    if rng.random() < 0.3 * a:
        yield service_line(
            sec(),
            "nextcloud",
            "info",
            f"Login successful: user {rng.choice(USERS)} from {random_ip(rng, True)}",
        )
    if rng.random() < 0.05:
        yield service_line(
            sec(),
            "nextcloud",
            "warning",
            f"Could not detect any host in https://cloud.example.net/ocs/v2.php "
            f"(request id {rng.getrandbits(64):016x})",
        )
    if rng.random() < 0.04:
        yield nextcloud_not_found(rng, sec())

    # gitea on web-01: health check every minute, browsing, failed logins
    yield service_line(
        sec(),
        "gitea",
        "info",
        f"router: completed GET /api/healthz for {_MONITOR}:{rng.randint(30000, 65000)}, "
        f"200 OK in {rng.random():.1f}ms",
    )
    for _ in range(scaled(rng, 0, 3, a)):
        yield service_line(
            sec(),
            "gitea",
            "info",
            f"router: completed GET /{rng.choice(USERS)}/{rng.choice(REPOS)} for "
            f"{random_ip(rng, True)}:{rng.randint(30000, 65000)}, "
            f"200 OK in {rng.random() * 80:.1f}ms",
        )
    if rng.random() < 0.015:
        yield service_line(
            sec(),
            "gitea",
            "warning",
            f"Failed authentication attempt for {rng.choice(USERS)} from "
            f"{random_ip(rng, True)}:{rng.randint(30000, 65000)}: user's password is invalid",
        )

    # nfs on nas-01: the web server's automounter mounts and unmounts every 10 minutes
    if t.minute % 10 == 3:
        verb = "mount" if (t.minute // 10) % 2 == 0 else "unmount"
        yield service_line(
            sec(),
            "nfs",
            "info",
            f"authenticated {verb} request from {HOST_IPS['web-01']}:{rng.randint(600, 1023)} "
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
        yield service_line(
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
    for _ in range(1 + scaled(rng, 0, 3, a)):
        domain = rng.choice(_DOMAINS)
        client = rng.choice((HOST_IPS["web-01"], HOST_IPS["db-01"], random_ip(rng, True)))
        at = sec()
        yield service_line(at, "dns", "info", f"query[A] {domain} from {client}")
        if domain.endswith("example.net"):
            yield service_line(at, "dns", "info", f"cached {domain} is 192.168.1.11")
        else:
            yield service_line(at, "dns", "info", f"forwarded {domain} to 1.1.1.1")

    # kernel: the firewall drops internet background radiation on web-01
    if rng.random() < 0.2:
        yield service_line(
            sec(),
            "kernel",
            "warning",
            f"[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 "
            f"SRC={random_ip(rng)} DST={HOST_IPS['web-01']} LEN=44 TOS=0x00 PREC=0x00 "
            f"TTL={rng.randint(30, 250)} ID={rng.randint(1, 65535)} PROTO=TCP "
            f"SPT={rng.randint(1024, 65535)} DPT={rng.choice((22, 23, 3389, 8080))} "
            "WINDOW=1024 RES=0x00 SYN URGP=0",
            host="web-01",
        )

    # noise: sshd brute force
    if rng.random() < 0.5:
        yield from ssh_attempt(rng, sec(), rng.choice(("web-01", "nas-01")))
    if rng.random() < 0.02:
        yield service_line(
            sec(),
            "sshd",
            "info",
            f"Accepted publickey for alice from {random_ip(rng, True)} port 52514 ssh2: "
            "ED25519 SHA256:Jk2q9m0f3vYy4c1xQ8kVh9Zb5wRt7uPz1aN6sLdE0oM",
            host="db-01",
        )


def nextcloud_not_found(rng: random.Random, t: datetime) -> Line:
    """nextcloud's usual error: a WebDAV client asks for a photo that is not there."""
    return service_line(
        t,
        "nextcloud",
        "error",
        f"Sabre\\DAV\\Exception\\NotFound: File with name "
        f"/Photos/{rng.randint(2019, 2025)}/IMG_{rng.randint(1000, 9999)}.jpg could not be located",
    )


def scanner_probe(rng: random.Random, t: datetime, path: str) -> Iterator[Line]:
    """A web scanner's request: the access-log 404 and, for a static path, nginx's error line."""
    ip = random_ip(rng)
    agent = rng.choice(("Mozilla/5.0 zgrab/0.x", "Mozilla/5.0 (compatible; CensysInspect/1.1)"))
    yield service_line(t, "nginx", "info", f'{ip} - - "GET {path} HTTP/1.1" 404 153 "-" "{agent}"')
    if not path.endswith(".php"):
        yield service_line(
            t,
            "nginx",
            "error",
            f'open() "/var/www/html{path}" failed (2: No such file or directory), '
            f'client: {ip}, server: _, request: "GET {path} HTTP/1.1", '
            f'host: "{HOST_IPS["web-01"]}"',
        )


def ssh_attempt(rng: random.Random, t: datetime, host: str) -> Iterator[Line]:
    """A bot's failed sshd login on `host` as an invalid user, and the disconnection."""
    ip, user, port = random_ip(rng), rng.choice(BOT_USERS), rng.randint(1024, 65535)
    yield service_line(
        t,
        "sshd",
        "info",
        f"Failed password for invalid user {user} from {ip} port {port} ssh2",
        host,
    )
    yield service_line(
        t,
        "sshd",
        "info",
        f"Connection closed by invalid user {user} {ip} port {port} [preauth]",
        host,
    )
