"""Write the evaluation scenarios of this folder from one table: `python tests/scenarios/generate.py`.

Each scenario is a synthetic homelab (`logvigil.evaluation.synth`) with faults
injected; this script writes its `scenario.yaml` (the generator spec, the
expected faults derived from the injected ones, and the sha256 of the logs the
spec produces) and a copy of the demo inventory beside it (with the scenario's
own edits, such as Debian's `ssh.service` for sshd). The logs themselves
are generated when the suite runs: the pinned digest makes a change in the
generator fail loudly instead of silently moving the benchmark.

    python tests/scenarios/generate.py            # (re)write every scenario folder
    python tests/scenarios/generate.py --check    # exit 1 when a folder is not what it would write
    python tests/scenarios/generate.py --dump DIR # also write DIR/<name>.jsonl.gz to read the logs
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from logvigil.evaluation.synth import SERVICE_HOSTS, Fault, FaultKind, generate_jsonl

HERE = Path(__file__).resolve().parent
INVENTORY = Path(__file__).resolve().parents[2] / "logvigil" / "evaluation" / "homelab.yaml"
START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
DAY2 = START + timedelta(days=1)
DAY3 = START + timedelta(days=2)

#: Debian, Ubuntu and Raspbian name sshd's unit `ssh.service` (`sshd.service` is only an
#: alias, never in the journal): the scenarios whose hosts start, stop or restart sshd say so.
SSH_UNIT = (
    "  sshd:\n    hosts: [all]\n    type: system\n    quiet: true\n",
    "  sshd:\n    hosts: [all]\n    type: system\n    quiet: true\n"
    "    match:\n      units: [ssh.service]   # Debian's name for it\n      identifiers: [sshd]\n",
)


def at(hh: int, mm: int = 0, day: datetime = DAY2) -> datetime:
    """A time on the second day (after the 24 h learning period), or on `day`."""
    return day + timedelta(hours=hh, minutes=mm)


def fault(fid: str, kind: FaultKind, when: datetime, minutes: int, **target: str) -> Fault:
    return Fault(fid, kind, when, timedelta(minutes=minutes), **target)


@dataclass(frozen=True)
class Spec:
    """One scenario: `hours` of logs from `start`, with `faults`; its inventory is the demo's,
    with each (old, new) text replacement of `inventory` applied."""

    description: str
    seed: int
    hours: int
    faults: list[Fault]
    start: datetime = START
    inventory: tuple[tuple[str, str], ...] = field(default=())

    def inventory_text(self, demo: str) -> str:
        text = demo
        for old, new in self.inventory:
            if old not in text:
                raise ValueError(f"the demo inventory no longer holds {old!r}")
            text = text.replace(old, new)
        return text


SCENARIOS: dict[str, Spec] = {
    "oom_cascade": Spec(
        "The kernel OOM-kills postgres on db-01 at 10:00; it stays down 20 minutes. "
        "nextcloud and gitea cannot connect, nginx returns 502s: one incident, root postgres.",
        11,
        38,
        [fault("oom-postgres", FaultKind.OOM_CASCADE, at(10), 20, service="postgres")],
    ),
    "disk_full": Spec(
        "The backup disk of nas-01 fills up at 02:00: the hourly restic job fails with "
        "'no space left on device' at 02:00, 03:00 and 04:00. One incident, root backup.",
        12,
        36,
        [fault("disk-backup", FaultKind.DISK_FULL, at(2), 180, service="backup")],
    ),
    "silent_service": Spec(
        "gitea (health-checked every minute) hangs at 10:00 and logs nothing for two hours; "
        "nothing else changes.",
        13,
        38,
        [fault("silent-gitea", FaultKind.SILENT_SERVICE, at(10), 120, service="gitea")],
    ),
    "silent_host": Spec(
        "pi-01 (pi-hole DNS) loses power at 09:00 and is silent for two hours.",
        14,
        38,
        [fault("silent-pi", FaultKind.SILENT_HOST, at(9), 120, host="pi-01")],
    ),
    "new_error_template": Spec(
        "postgres starts reporting a never-seen ERROR (a short read of a data block, a "
        "corruption sign) at 10:00, a few times over an hour.",
        15,
        38,
        [fault("pg-read-error", FaultKind.NEW_ERROR_TEMPLATE, at(10), 60, service="postgres")],
    ),
    "error_spike": Spec(
        "nextcloud's usual error (a few an hour) jumps to 20-60 a minute for 15 minutes at "
        "11:00 (a sync client looping over a deleted file); other services are unaffected.",
        16,
        38,
        [fault("nextcloud-spike", FaultKind.ERROR_SPIKE, at(11), 15, service="nextcloud")],
    ),
    "noise_sshd_burst": Spec(
        "A botnet hammers sshd on nas-01 for 15 minutes at 03:00: thousands of failed "
        "passwords and 'maximum authentication attempts exceeded' errors. Must not page.",
        17,
        36,
        [fault("ssh-botnet", FaultKind.NOISE_BURST, at(3), 15, host="nas-01")],
    ),
    "noise_scanner_burst": Spec(
        "A scanner and an ssh botnet hit web-01 for 10 minutes at 10:00: thousands of 404s "
        "for /wp-login.php, /.env, /.git/config (nginx also logs an [error] 'open() failed' "
        "line for each static one) and sshd failures. Must not page.",
        18,
        38,
        [fault("web-scan", FaultKind.NOISE_BURST, at(10), 10, host="web-01")],
    ),
    "benign_warning": Spec(
        "After an OS upgrade at 09:00, postgres warns of a collation version mismatch on "
        "every connection: a new WARNING template, harmless. Must not page.",
        19,
        38,
        [fault("pg-collation", FaultKind.BENIGN_WARNING, at(9), 180, service="postgres")],
    ),
    "quiet_baseline": Spec(
        "Two ordinary days: diurnal traffic, the usual few errors an hour, sshd brute force "
        "and scanners. Nothing is wrong; every incident is a false one.",
        20,
        48,
        [],
    ),
    "diurnal_service": Spec(
        "nextcloud is used by day only (its background jobs run on page loads), so it logs "
        "nothing from 23:00 to 07:00 every night: no page at night. On the last day at 14:00 its "
        "php-fpm pool hangs and it logs nothing for two hours: one incident within 30 minutes.",
        21,
        53,
        [
            fault(
                "day-only",
                FaultKind.NIGHT_QUIET,
                START + timedelta(hours=12),
                43 * 60,
                service="nextcloud",
            ),
            fault(
                "nextcloud-hangs",
                FaultKind.SILENT_SERVICE,
                at(14, day=DAY3),
                120,
                service="nextcloud",
            ),
        ],
        start=START + timedelta(hours=12),
        inventory=(SSH_UNIT,),
    ),
    "unclean_reboot": Spec(
        "db-01 reboots cleanly at 04:30 for a kernel update (systemd's whole shutdown sequence, "
        "journald's 'Journal stopped', then the boot): no page. At 15:12 it crashes: its lines "
        "stop mid-stream and it boots at 15:17 with no shutdown before, its root file system "
        "replaying its journal ('EXT4-fs (sda2): recovery complete') and postgres recovering. "
        "One incident from the boot, root the host db-01.",
        22,
        42,
        [
            fault("kernel-update", FaultKind.CLEAN_REBOOT, at(4, 30), 2, host="db-01"),
            fault("db-crash", FaultKind.UNCLEAN_REBOOT, at(15, 12), 5, host="db-01"),
        ],
        inventory=(SSH_UNIT,),
    ),
    "boot_only_daemon": Spec(
        "nas-01 (Ubuntu 22.04) and web-01 (Debian 12) reboot cleanly every morning (05:05, "
        "05:20). cloud-init, multipathd, udisksd and apport log only when nas-01 boots or stops, "
        "then nothing for a day; web-01's services are gone for two minutes. Must not page.",
        23,
        56,
        [
            fault("nas-reboot-1", FaultKind.CLEAN_REBOOT, at(5, 5), 2, host="nas-01"),
            fault("web-reboot-1", FaultKind.CLEAN_REBOOT, at(5, 20), 2, host="web-01"),
            fault("nas-reboot-2", FaultKind.CLEAN_REBOOT, at(5, 5, day=DAY3), 2, host="nas-01"),
            fault("web-reboot-2", FaultKind.CLEAN_REBOOT, at(5, 20, day=DAY3), 2, host="web-01"),
        ],
        inventory=(SSH_UNIT,),
    ),
    "suspend_resume": Spec(
        "From the second night on, nas-01 suspends to RAM at 00:40 and wakes at 06:50 "
        "(logind, systemd-sleep, the kernel's PM lines): six hours without a line from it, "
        "twice. Must not page.",
        24,
        56,
        [
            fault("nas-sleeps-1", FaultKind.SUSPEND, at(0, 40), 370, host="nas-01"),
            fault("nas-sleeps-2", FaultKind.SUSPEND, at(0, 40, day=DAY3), 370, host="nas-01"),
        ],
        inventory=(SSH_UNIT,),
    ),
    "internet_sshd": Spec(
        "From 00:00 on day two the router forwards port 22 to pi-01: scanners and brute force "
        "hit its sshd all day in bursts, each connection logging 'error: Could not load host "
        "key' (a harmless leftover in sshd_config) and its pre-authentication end; no page for "
        "that. At 17:40 sshd is restarted while another listener holds port 22: 'Bind to port "
        "22 on 0.0.0.0 failed: Address already in use.', 'fatal: Cannot bind any address.', and "
        "it stays down for 30 minutes. One incident, root sshd.",
        25,
        45,
        [
            fault("internet", FaultKind.SSHD_SCAN, at(0), 20 * 60, host="pi-01"),
            fault(
                "sshd-bind", FaultKind.SSHD_FAILURE, at(17, 40), 30, service="sshd", host="pi-01"
            ),
        ],
        inventory=(SSH_UNIT,),
    ),
    "oom_storm": Spec(
        "A leaking Nextcloud app makes web-01's php-fpm workers exhaust memory: the kernel "
        "OOM-kills a worker about every four minutes in three episodes of 3.5-4 hours (02:10, "
        "12:45, 23:20), seven hours apart; nginx returns a 502 for each killed request. One "
        "incident per episode, root nextcloud.",
        26,
        53,
        [
            fault("oom-night", FaultKind.OOM_STORM, at(2, 10), 210, service="nextcloud"),
            fault("oom-afternoon", FaultKind.OOM_STORM, at(12, 45), 210, service="nextcloud"),
            fault("oom-late", FaultKind.OOM_STORM, at(23, 20), 230, service="nextcloud"),
        ],
        inventory=(SSH_UNIT,),
    ),
}


def digest(spec: Spec) -> str:
    h = hashlib.sha256()
    for raw in generate_jsonl(
        spec.hours * 60, start=spec.start, seed=spec.seed, faults=spec.faults
    ):
        h.update(raw)
    return h.hexdigest()


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def scenario_yaml(name: str) -> str:
    spec = SCENARIOS[name]
    injected = []
    for f in spec.faults:
        item: dict[str, object] = {"id": f.id, "kind": f.kind.value}
        if f.service is not None:
            item["service"] = f.service
        if f.service is None or f.host != SERVICE_HOSTS[f.service][0]:
            item["host"] = f.host
        item["at"] = _iso(f.start)
        item["minutes"] = int(f.duration / timedelta(minutes=1))
        injected.append(item)
    doc = {
        "description": spec.description,
        "inventory": "inventory.yaml",
        "logs": {
            "synth": {
                "seed": spec.seed,
                "start": _iso(spec.start),
                "hours": spec.hours,
                "faults": injected,
            },
            "sha256": digest(spec),
        },
        "expect": {"faults": [e for f in spec.faults if (e := f.expected()) is not None]},
    }
    header = "# Written by tests/scenarios/generate.py; edit the table there, then re-run it.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, width=100, default_flow_style=None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on a difference")
    parser.add_argument("--dump", type=Path, help="also write <DIR>/<name>.jsonl.gz")
    args = parser.parse_args(argv)
    demo = INVENTORY.read_text()
    stale = []
    for name, spec in SCENARIOS.items():
        folder = HERE / name
        want = scenario_yaml(name)
        have = (
            (folder / "scenario.yaml").read_text() if (folder / "scenario.yaml").exists() else None
        )
        inv = folder / "inventory.yaml"
        inventory = spec.inventory_text(demo)
        if have != want or not inv.exists() or inv.read_text() != inventory:
            stale.append(name)
            if not args.check:
                folder.mkdir(exist_ok=True)
                (folder / "scenario.yaml").write_text(want)
                inv.write_text(inventory)
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            with gzip.GzipFile(args.dump / f"{name}.jsonl.gz", "wb", mtime=0) as out:
                for raw in generate_jsonl(
                    spec.hours * 60, start=spec.start, seed=spec.seed, faults=spec.faults
                ):
                    out.write(raw)
    verb = "out of date" if args.check else "written"
    print(f"{len(stale)} of {len(SCENARIOS)} scenarios {verb}: {', '.join(stale) or '-'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
