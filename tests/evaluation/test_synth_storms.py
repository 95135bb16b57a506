"""The synthetic trouble that lasts: an internet-facing sshd, an sshd that cannot bind, an OOM storm.

The lines must be the programs' own: where the real logs of
`../shared/data/real_logs` hold the same message, the synthetic one has its shape
(those tests skip when the folder is absent).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from logvigil.evaluation.synth import DEMO_START, Fault, FaultKind, Line, generate

M = timedelta(minutes=1)
T0 = DEMO_START + timedelta(hours=1)
REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real_logs"
HOST_KEY = "error: Could not load host key: /etc/ssh/ssh_host_ed25519_key"
#: How OpenSSH 7.x ends a connection that never authenticates.
ENDING = re.compile(
    r"^(?:Connection closed by \S+ port \d+ \[preauth\]"
    r"|Did not receive identification string from \S+ port \d+"
    r"|Connection reset by \S+ port \d+ \[preauth\]"
    r"|Bad protocol version identification '.*' from \S+ port \d+"
    r"|Unable to negotiate with \S+ port \d+: .* \[preauth\]"
    r"|Disconnected from (?:invalid|authenticating) user \S+ \S+ port \d+ \[preauth\]"
    r"|Disconnecting authenticating user \S+ \S+ port \d+: Too many authentication failures "
    r"\[preauth\])$"
)
KILLED = re.compile(
    r"^Out of memory: Killed process (\d+) \(php-fpm8\.2\) total-vm:\d+kB, anon-rss:\d+kB, "
    r"file-rss:0kB, shmem-rss:0kB, UID:33 pgtables:\d+kB oom_score_adj:0$"
)


def lines(minutes: int, *faults: Fault, seed: int = 9) -> list[Line]:
    return list(generate(minutes, start=DEMO_START, seed=seed, faults=faults))


def sshd(ls: list[Line], host: str = "pi-01") -> list[Line]:
    return [ln for ln in ls if ln.host == host and ln.service == "sshd"]


def test_an_internet_facing_sshd_logs_one_host_key_error_per_connection_in_bursts() -> None:
    f = Fault("internet", FaultKind.SSHD_SCAN, T0, 180 * M, host="pi-01")
    plain, ls = lines(5 * 60), lines(5 * 60, f)
    assert not sshd(plain)  # pi-01's sshd is quiet until it faces the internet
    scan = sshd(ls)
    assert all(T0 <= ln.ts < T0 + 180 * M for ln in scan)
    keys = [ln for ln in scan if ln.message == HOST_KEY]
    assert 150 <= len(keys) <= 1000
    assert len(keys) == sum(bool(ENDING.match(ln.message)) for ln in scan)
    per_minute = Counter(ln.ts.replace(second=0, microsecond=0) for ln in keys)
    assert max(per_minute.values()) >= 5  # a burst
    assert statistics.median(per_minute.values()) <= 3  # over a trickle
    errors = {ln.message for ln in scan if ln.severity == "error"}
    assert HOST_KEY in errors
    assert all(m == HOST_KEY or m.startswith("error: maximum authentication") for m in errors)
    assert Counter(plain) - Counter(ls) == Counter()  # it only adds lines
    assert f.expected() is None


def test_an_sshd_that_cannot_bind_fails_and_stays_down_until_started() -> None:
    scan = Fault("internet", FaultKind.SSHD_SCAN, T0, 180 * M, host="pi-01")
    down = Fault("bind", FaultKind.SSHD_FAILURE, T0 + 60 * M, 30 * M, service="sshd", host="pi-01")
    ls = lines(5 * 60, scan, down)
    failing = [ln for ln in ls if ln.host == "pi-01" and T0 + 60 * M <= ln.ts < T0 + 61 * M]
    by_message = {ln.message: ln for ln in failing}
    assert (
        by_message["error: Bind to port 22 on 0.0.0.0 failed: Address already in use."].severity
        == "error"
    )
    assert by_message["fatal: Cannot bind any address."].severity == "critical"
    failed = by_message["ssh.service: Failed with result 'exit-code'."]
    assert failed.service == "systemd" and failed.inventory_service == "sshd"
    assert "Failed to start OpenBSD Secure Shell server." in by_message  # systemd 241's wording
    fatal = by_message["fatal: Cannot bind any address."].ts
    assert not [ln for ln in sshd(ls) if fatal < ln.ts < T0 + 90 * M]  # down: no connection logs
    back = sshd([ln for ln in ls if T0 + 90 * M <= ln.ts < T0 + 91 * M])
    assert back[0].message == "Server listening on 0.0.0.0 port 22."
    assert [
        ln for ln in sshd(ls) if ln.ts > T0 + 95 * M and ln.message == HOST_KEY
    ]  # scanned again
    assert down.expected() == {
        "id": "bind",
        "kind": "sshd_failure",
        "service": "sshd",
        "host": "pi-01",
        "at": "2026-03-02T02:00:00Z",
        "end": "2026-03-02T02:30:00Z",
        "root": "sshd",
    }


def test_an_oom_storm_kills_a_worker_every_few_minutes_and_names_each_victim() -> None:
    f = Fault("storm", FaultKind.OOM_STORM, T0, 180 * M, service="nextcloud")
    plain, ls = lines(5 * 60), lines(5 * 60, f)
    kernel = [ln for ln in ls if ln.service == "kernel" and ln.host == "web-01"]
    kills = [
        (ln, KILLED.match(ln.message)) for ln in kernel if ln.message.startswith("Out of memory")
    ]
    assert kills and all(m for _, m in kills)
    assert 25 <= len(kills) <= 80 and all(T0 <= ln.ts < T0 + 180 * M for ln, _ in kills)
    assert kills[0][0].ts < T0 + M
    gaps = [b.ts - a.ts for (a, _), (b, _) in pairwise(kills)]
    assert max(gaps) < 30 * M  # no quiet stretch inside an episode
    pids = [m.group(1) for _, m in kills if m]
    assert len(set(pids)) >= len(pids) - 1  # a new victim each time
    messages = [ln.message for ln in kernel]
    for pid in pids:
        assert any(re.search(rf",task=php-fpm8\.2,pid={pid},uid=33$", m) for m in messages)
    invokers = Counter(
        m.split(" invoked oom-killer: ")[0] for m in messages if " invoked oom-killer: " in m
    )
    assert sum(invokers.values()) == len(kills) and len(invokers) > 1  # not always the victim
    assert (
        "php-fpm8.2 invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), "
        "order=0, oom_score_adj=0" in messages
    )
    badgateway = [
        ln for ln in ls if ln.service == "nginx" and "prematurely closed FastCGI" in ln.message
    ]
    assert len(badgateway) == len(kills)
    assert Counter(plain) - Counter(ls) == Counter()  # it only adds lines
    assert f.expected()["affected"] == ["nginx"] and f.expected()["root"] == "nextcloud"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": FaultKind.SSHD_FAILURE, "service": "nginx"}, "modelled for sshd"),
        ({"kind": FaultKind.OOM_STORM, "service": "postgres"}, "modelled for nextcloud"),
        ({"kind": FaultKind.UNCLEAN_REBOOT, "host": "db-02"}, "needs a host"),
        ({"kind": FaultKind.NIGHT_QUIET, "service": "mysql"}, "needs a service of the homelab"),
    ],
)
def test_a_new_kind_that_does_not_fit_the_homelab_is_refused(spec, message) -> None:
    with pytest.raises(ValueError, match=message):
        Fault("f", start=T0, **spec)


# --------------------------------------------------------------------------- real wording


def real_messages(name: str) -> set[str]:
    """The messages of a real syslog file: no time stamp, host, tag or kernel uptime."""
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"the real logs are not here: {path}")
    out = set()
    with path.open("rb") as fh:
        for raw in fh:
            text = raw.decode("utf-8", "replace").rstrip("\n")
            m = re.match(
                r"^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ [^:]+: (?:\[\s*\d+\.\d+\] )?(.*)$", text
            )
            if m:
                out.add(m.group(1))
    return out


def shape(message: str) -> str:
    return re.sub(r"\d+(?:\.\d+)?", "N", message)


def test_synthetic_lines_have_the_shape_real_machines_wrote() -> None:
    scan = Fault("internet", FaultKind.SSHD_SCAN, T0, 60 * M, host="pi-01")
    sleep = Fault("sleep", FaultKind.SUSPEND, T0, 30 * M, host="nas-01")
    down = Fault("bind", FaultKind.SSHD_FAILURE, T0 + 40 * M, 5 * M, service="sshd", host="pi-01")
    reboot = Fault("r", FaultKind.CLEAN_REBOOT, T0 + 2 * M, 2 * M, host="pi-01")
    ours = {shape(ln.message) for ln in lines(2 * 60, scan, sleep, down, reboot)}
    auth = {shape(m) for m in real_messages("serverlog_auth.log")}  # OpenSSH 6.6, Ubuntu 14.04
    assert shape(HOST_KEY) in auth & ours
    kern = {shape(m) for m in real_messages("elemoine_kern.log")}  # kernel 3.19
    for m in (
        "Freezing user space processes ... (elapsed 0.001 seconds) done.",
        "Freezing remaining freezable tasks ... (elapsed 0.001 seconds) done.",
        "Disabling non-boot CPUs ...",
        "Enabling non-boot CPUs ...",
        "smpboot: CPU 1 is now offline",
    ):
        assert shape(m) in kern & ours, m
    vps = {shape(m) for m in real_messages("plemma_syslog.log")}  # Debian 10, systemd 241
    for m in (
        "Starting OpenBSD Secure Shell server...",
        "Started OpenBSD Secure Shell server.",
        "Startup finished in 2.999s (kernel) + 4.591s (userspace) = 7.590s.",
    ):
        assert shape(m) in vps & ours, m
