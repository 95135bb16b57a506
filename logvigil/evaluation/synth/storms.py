"""Trouble that lasts, in the programs' own words: an internet-facing sshd, its failure, OOM kills.

- `sshd_scan_minute`: the internet finding an sshd. OpenSSH 7.9 (Raspbian 10)
  whose `sshd_config` names a host key that does not exist logs
  "error: Could not load host key: /etc/ssh/ssh_host_ed25519_key" at every
  connection (it re-executes itself per connection), then what the client
  did: port scanners close ("Connection closed by ... [preauth]", "Did not
  receive identification string from ...", "Connection reset by ...
  [preauth]"), HTTP probes ("Bad protocol version identification"), old
  clients ("Unable to negotiate with ..."), and brute force ("Invalid user
  admin from ...", "Failed password for root from ...", "maximum
  authentication attempts exceeded"). Scanners come in bursts (one address,
  many connections a minute, for a few minutes) over a steady trickle.
- `sshd_failure_lines`: sshd restarted while another process holds port 22:
  "error: Bind to port 22 on 0.0.0.0 failed: Address already in use.",
  "fatal: Cannot bind any address.", exit status 255, which Debian's
  `ssh.service` does not restart (`RestartPreventExitStatus=255`); it stays
  down until the operator starts it again.
- `oom_storm_minute`: php-fpm workers of a leaking Nextcloud app exhaust
  memory; the kernel kills one every few minutes with its full report
  (the invoking task, which need not be the victim, its call trace, Mem-Info,
  the task table, "oom-kill:..." and "Out of memory: Killed process ..."),
  systemd notes the kill in `php8.2-fpm.service` (which runs with
  `OOMPolicy=continue`, so the unit stays up), the pool master replaces the
  worker, and nginx answers the killed worker's request with a 502.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from logvigil.evaluation.synth.daemons import after
from logvigil.evaluation.synth.homelab import BOT_USERS, USERS, Acting, Line, random_ip
from logvigil.evaluation.synth.machines import OSES, systemd_line, unit_says

_HOST_KEY = "error: Could not load host key: /etc/ssh/ssh_host_ed25519_key"
#: How a scanner's connection ends, and how often (weights).
_ENDINGS = {
    "closed": 20,
    "no_ident": 12,
    "reset": 10,
    "bad_version": 4,
    "kex": 4,
    "root": 28,
    "invalid": 22,
}
#: Scanners arrive in bursts: each slot of this length may hold one.
_SLOT = timedelta(minutes=15)


def _ssh(t: datetime, host: str, message: str, severity: str = "info") -> Line:
    return Line(t, host, "sshd", severity, message)


def _connection(rng: random.Random, t: datetime, host: str, ip: str, ending: str) -> list[Line]:
    """One scanner connection from `ip` at `t`: the host-key error, then how it ends."""
    port = rng.randint(1024, 65535)
    out = [_ssh(t, host, _HOST_KEY, "error")]
    s = t + timedelta(seconds=0.2 + rng.random())
    if ending == "closed":
        out.append(_ssh(s, host, f"Connection closed by {ip} port {port} [preauth]"))
    elif ending == "no_ident":
        out.append(_ssh(s, host, f"Did not receive identification string from {ip} port {port}"))
    elif ending == "reset":
        out.append(_ssh(s, host, f"Connection reset by {ip} port {port} [preauth]"))
    elif ending == "bad_version":
        out.append(
            _ssh(
                s,
                host,
                f"Bad protocol version identification 'GET / HTTP/1.1' from {ip} port {port}",
            )
        )
    elif ending == "kex":
        out.append(
            _ssh(
                s,
                host,
                f"Unable to negotiate with {ip} port {port}: no matching key exchange method "
                "found. Their offer: diffie-hellman-group14-sha1,diffie-hellman-group-exchange-"
                "sha1,diffie-hellman-group1-sha1 [preauth]",
            )
        )
    elif ending == "invalid":
        user = rng.choice(BOT_USERS[1:])
        out += [
            _ssh(s, host, f"Invalid user {user} from {ip} port {port}"),
            _ssh(s, host, "pam_unix(sshd:auth): check pass; user unknown", "notice"),
            _ssh(
                s,
                host,
                "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
                f"ruser= rhost={ip} ",
                "notice",
            ),
            _ssh(
                s + timedelta(seconds=2),
                host,
                f"Failed password for invalid user {user} from {ip} port {port} ssh2",
            ),
            _ssh(
                s + timedelta(seconds=2.3),
                host,
                f"Received disconnect from {ip} port {port}:11: Bye Bye [preauth]",
            ),
            _ssh(
                s + timedelta(seconds=2.3),
                host,
                f"Disconnected from invalid user {user} {ip} port {port} [preauth]",
            ),
        ]
    else:  # root: a password guess or several
        out.append(
            _ssh(
                s,
                host,
                "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
                f"ruser= rhost={ip}  user=root",
                "notice",
            )
        )
        tries = 1 if rng.random() < 0.8 else 6
        for i in range(tries):
            out.append(
                _ssh(
                    s + timedelta(seconds=2 + 1.5 * i),
                    host,
                    f"Failed password for root from {ip} port {port} ssh2",
                )
            )
        end = s + timedelta(seconds=2.5 + 1.5 * tries)
        if tries == 1:
            out.append(
                _ssh(end, host, f"Received disconnect from {ip} port {port}:11: Bye Bye [preauth]")
            )
            out.append(
                _ssh(
                    end,
                    host,
                    f"Disconnected from authenticating user root {ip} port {port} [preauth]",
                )
            )
        else:
            out.append(
                _ssh(
                    end,
                    host,
                    f"error: maximum authentication attempts exceeded for root from {ip} port "
                    f"{port} ssh2 [preauth]",
                    "error",
                )
            )
            out.append(
                _ssh(
                    end,
                    host,
                    f"Disconnecting authenticating user root {ip} port {port}: Too many "
                    "authentication failures [preauth]",
                )
            )
    return out


def _ending(rng: random.Random, brute: bool) -> str:
    if brute:
        return rng.choice(("root", "root", "invalid"))
    return rng.choices(list(_ENDINGS), list(_ENDINGS.values()))[0]


def sshd_scan_minute(
    rng: random.Random, t: datetime, start: datetime, host: str, name: str
) -> Iterator[Line]:
    """The scanner connections to `host`'s sshd in the minute starting at `t`.

    The trickle draws from `rng`; the bursts from a stream of their own per 15-minute slot
    (seeded by `name` and the slot), so a burst spans minutes without state between calls.
    """
    for _ in range(rng.choices((0, 1, 2), (45, 40, 15))[0]):
        at = t + timedelta(seconds=rng.random() * 48)
        yield from _connection(rng, at, host, random_ip(rng), _ending(rng, False))
    slot = int((t - start) / _SLOT)
    burst = random.Random(f"{name}:{slot}")
    if burst.random() >= 0.4:
        return
    begin = start + slot * _SLOT + timedelta(minutes=burst.randint(0, 10))
    minutes, rate = burst.randint(1, 5), burst.randint(4, 22)
    ip, brute = random_ip(burst), burst.random() < 0.6
    if not begin <= t < begin + timedelta(minutes=minutes):
        return
    for _ in range(rate):
        at = t + timedelta(seconds=rng.random() * 48)
        yield from _connection(rng, at, host, ip, _ending(rng, brute))


def sshd_scan_lines(f: Acting, rng: random.Random, t: datetime) -> Iterator[Line]:
    """`sshd_scan_minute` for the minute `t` of fault `f` (nothing once it is over)."""
    assert f.host is not None
    if t < f.end:
        yield from sshd_scan_minute(rng, t, f.start, f.host, f"{f.id}@{f.start.isoformat()}")


def sshd_failure_lines(f: Acting, rng: random.Random, t: datetime) -> Iterator[Line]:
    """sshd failing to bind when restarted at `f.start`, and started by hand again at `f.end`."""
    assert f.host is not None
    host = f.host
    unit, desc = "ssh.service", "OpenBSD Secure Shell server"
    if t == f.start:
        s = t + timedelta(seconds=5 + rng.random() * 10)
        yield unit_says(s, host, "Stopping", unit, desc)
        yield _ssh(after(s, 0.01), host, "Received signal 15; terminating.")
        yield systemd_line(after(s, 0.05), host, f"{unit}: {OSES[host].deactivated}", unit)
        yield unit_says(after(s, 0.06), host, "Stopped", unit, desc)
        yield unit_says(after(s, 0.07), host, "Starting", unit, desc)
        yield _ssh(
            after(s, 0.1),
            host,
            "error: Bind to port 22 on 0.0.0.0 failed: Address already in use.",
            "error",
        )
        yield _ssh(
            after(s, 0.1),
            host,
            "error: Bind to port 22 on :: failed: Address already in use.",
            "error",
        )
        yield _ssh(after(s, 0.1), host, "fatal: Cannot bind any address.", "critical")
        yield systemd_line(
            after(s, 0.12),
            host,
            f"{unit}: Main process exited, code=exited, status=255/EXCEPTION",
            unit,
            "notice",
        )
        yield systemd_line(
            after(s, 0.12), host, f"{unit}: Failed with result 'exit-code'.", unit, "warning"
        )
        yield systemd_line(
            after(s, 0.13), host, f"Failed to start {_named(host, unit, desc)}.", unit, "error"
        )
    elif t == f.end:
        s = t + timedelta(seconds=20 + rng.random() * 20)
        yield unit_says(s, host, "Starting", unit, desc)
        yield _ssh(after(s, 0.1), host, "Server listening on 0.0.0.0 port 22.")
        yield _ssh(after(s, 0.1), host, "Server listening on :: port 22.")
        yield unit_says(after(s, 0.15), host, "Started", unit, desc)


def _named(host: str, unit: str, description: str) -> str:
    return f"{unit} - {description}" if OSES[host].combined else description


# --------------------------------------------------------------------------- OOM storm

#: The storm's victims: php-fpm workers of Nextcloud (www-data) on web-01.
OOM_STORM_VICTIMS = {"nextcloud": ("php-fpm8.2", "php8.2-fpm.service", 33)}
_TRACE = (
    "Call Trace:",
    " <TASK>",
    " dump_stack_lvl+0x44/0x5c",
    " dump_header+0x4a/0x211",
    " oom_kill_process.cold+0xb/0x10",
    " out_of_memory+0x1fd/0x4c0",
    " __alloc_pages_slowpath.constprop.0+0xc83/0xe50",
    " __alloc_pages+0x305/0x330",
    " folio_alloc+0x17/0x50",
    " __filemap_get_folio+0x155/0x340",
    " filemap_fault+0x139/0x910",
    " __do_fault+0x30/0x110",
    " do_fault+0x1b9/0x410",
    " __handle_mm_fault+0x660/0xfa0",
    " handle_mm_fault+0xdb/0x2d0",
    " do_user_addr_fault+0x191/0x550",
    " exc_page_fault+0x70/0x170",
    " asm_exc_page_fault+0x22/0x30",
)
_TASK = "[{:7d}] {:5d} {:5d} {:8d} {:8d} {:8d} {:8d}         {:5d} {}"


def _oom_report(
    rng: random.Random, victim: tuple[str, str, int], pid: int
) -> list[tuple[str, str]]:
    """The kernel's OOM report (severity, message) for a kill of `pid`."""
    comm, unit, uid = victim
    invoker, ipid = rng.choices(
        ((comm, pid + rng.randint(1, 40)), ("gitea", 913), ("nginx", 742)), (70, 15, 15)
    )[0]
    rip = rng.randint(0x55D0C2000000, 0x55D0C2FFFFFF)
    total = rng.randint(1_500_000, 1_700_000)
    anon = total - rng.randint(40_000, 80_000)
    report = [
        (
            "warning",
            f"{invoker} invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|"
            "__GFP_COMP), order=0, oom_score_adj=0",
        ),
        (
            "warning",
            f"CPU: {rng.randint(0, 3)} PID: {ipid} Comm: {invoker} Not tainted "
            "6.1.0-18-amd64 #1  Debian 6.1.76-1",
        ),
        (
            "warning",
            "Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS "
            "rel-1.16.2-0-gea1b7a073390-prebuilt.qemu.org 04/01/2014",
        ),
        *(("warning", line) for line in _TRACE),
        ("warning", f"RIP: 0033:0x{rip:x}"),
        ("warning", f"Code: Unable to access opcode bytes at 0x{rip - 0x2A:x}."),
        ("warning", f"RSP: 002b:00007ffc{rng.getrandbits(32):08x} EFLAGS: 00010206"),
        ("warning", " </TASK>"),
        ("info", "Mem-Info:"),
        (
            "info",
            f"active_anon:{rng.randint(1_690_000, 1_710_000)} inactive_anon:"
            f"{rng.randint(200_000, 215_000)} isolated_anon:0",
        ),
        (
            "info",
            f" active_file:{rng.randint(60, 400)} inactive_file:{rng.randint(20, 200)} "
            "isolated_file:0",
        ),
        ("info", f" free:{rng.randint(24_000, 26_000)} free_pcp:{rng.randint(0, 90)} free_cma:0"),
        ("info", "Free swap  = 0kB"),
        ("info", "Total swap = 0kB"),
        ("info", "2097018 pages RAM"),
        ("info", "Tasks state (memory values in pages):"),
        (
            "info",
            "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
        ),
        ("info", _TASK.format(611, 0, 611, 64012, 4312, 196608, 0, 0, comm)),
        ("info", _TASK.format(742, 33, 742, 14201, 1804, 126976, 0, 0, "nginx")),
        ("info", _TASK.format(913, 1000, 913, 412876, 61233, 827392, 0, 0, "gitea")),
    ]
    for other in sorted({pid, *(rng.randint(3000, 32000) for _ in range(3))}):
        rss = anon // 4 if other == pid else rng.randint(150_000, 300_000)
        report.append(
            ("info", _TASK.format(other, uid, other, total // 4, rss, 3334144, 0, 0, comm))
        )
    report += [
        (
            "info",
            "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
            f"global_oom,task_memcg=/system.slice/{unit},task={comm},pid={pid},uid={uid}",
        ),
        (
            "error",
            f"Out of memory: Killed process {pid} ({comm}) total-vm:{total}kB, "
            f"anon-rss:{anon}kB, file-rss:0kB, shmem-rss:0kB, UID:{uid} "
            f"pgtables:{rng.randint(3000, 3400)}kB oom_score_adj:0",
        ),
        (
            "info",
            f"oom_reaper: reaped process {pid} ({comm}), now anon-rss:0kB, file-rss:0kB, "
            "shmem-rss:0kB",
        ),
    ]
    return report


def oom_storm_minute(
    rng: random.Random, t: datetime, start: datetime, host: str, service: str
) -> Iterator[Line]:
    """The OOM kills on `host` in the minute starting at `t` (one at `start`, then about one
    every four minutes): the kernel's report, systemd's note, the pool master replacing the
    worker, and nginx's 502 for the request the worker was serving."""
    if t != start and rng.random() >= 0.27:
        return
    victim = OOM_STORM_VICTIMS[service]
    unit = victim[1]
    pid = rng.randint(3000, 32000)
    s = t + timedelta(seconds=rng.random() * 45)
    for i, (severity, message) in enumerate(_oom_report(rng, victim, pid)):
        yield Line(s + timedelta(microseconds=50 * i), host, "kernel", severity, message)
    yield systemd_line(
        after(s, 0.9),
        host,
        f"{unit}: A process of this unit has been killed by the OOM killer.",
        unit,
        "notice",
    )
    yield Line(
        after(s, 1.0),
        host,
        "php-fpm",
        "warning",
        f"[WARNING] [pool www] child {pid} exited on signal 9 (SIGKILL) after "
        f"{rng.uniform(30, 3000):.6f} seconds from start",
    )
    yield Line(
        after(s, 1.01),
        host,
        "php-fpm",
        "notice",
        f"[NOTICE] [pool www] child {rng.randint(3000, 32000)} started",
    )
    ip = random_ip(rng, private=True)
    path = rng.choice(("/index.php/apps/files", f"/remote.php/dav/files/{rng.choice(USERS)}/"))
    method = "GET" if path.startswith("/index") else "PROPFIND"
    yield Line(
        after(s, 1.0),
        host,
        "nginx",
        "error",
        "upstream prematurely closed FastCGI stdout while reading response header from "
        f'upstream, client: {ip}, server: cloud.example.net, request: "{method} {path} '
        'HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: '
        '"cloud.example.net"',
    )
    yield Line(
        after(s, 1.0),
        host,
        "nginx",
        "info",
        f'{ip} - - "{method} {path} HTTP/1.1" 502 166 "-" "Mozilla/5.0 (X11; Linux x86_64)"',
    )


def oom_storm_lines(f: Acting, rng: random.Random, t: datetime) -> Iterator[Line]:
    """`oom_storm_minute` for the minute `t` of fault `f` (nothing once it is over)."""
    assert f.host is not None and f.service is not None
    if t < f.end:
        yield from oom_storm_minute(rng, t, f.start, f.host, f.service)
