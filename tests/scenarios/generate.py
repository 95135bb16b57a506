"""Write the evaluation scenarios of this folder from one table: `python tests/scenarios/generate.py`.

Each scenario is a synthetic homelab (`logvigil.evaluation.synth`) with faults
injected; this script writes its `scenario.yaml` (the generator spec, the
expected faults derived from the injected ones, and the sha256 of the logs the
spec produces) and copies the demo inventory beside it. The logs themselves
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
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from logvigil.evaluation.synth import Fault, FaultKind, generate_jsonl

HERE = Path(__file__).resolve().parent
INVENTORY = Path(__file__).resolve().parents[2] / "logvigil" / "evaluation" / "homelab.yaml"
START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
DAY2 = START + timedelta(days=1)


def at(hh: int, mm: int = 0) -> datetime:
    """A time on the second day (after the 24 h learning period)."""
    return DAY2 + timedelta(hours=hh, minutes=mm)


def fault(fid: str, kind: FaultKind, when: datetime, minutes: int, **target: str) -> Fault:
    return Fault(fid, kind, when, timedelta(minutes=minutes), **target)


#: name -> (description, seed, hours, faults)
SCENARIOS: dict[str, tuple[str, int, int, list[Fault]]] = {
    "oom_cascade": (
        "The kernel OOM-kills postgres on db-01 at 10:00; it stays down 20 minutes. "
        "nextcloud and gitea cannot connect, nginx returns 502s: one incident, root postgres.",
        11,
        38,
        [fault("oom-postgres", FaultKind.OOM_CASCADE, at(10), 20, service="postgres")],
    ),
    "disk_full": (
        "The backup disk of nas-01 fills up at 02:00: the hourly restic job fails with "
        "'no space left on device' at 02:00, 03:00 and 04:00. One incident, root backup.",
        12,
        36,
        [fault("disk-backup", FaultKind.DISK_FULL, at(2), 180, service="backup")],
    ),
    "silent_service": (
        "gitea (health-checked every minute) hangs at 10:00 and logs nothing for two hours; "
        "nothing else changes.",
        13,
        38,
        [fault("silent-gitea", FaultKind.SILENT_SERVICE, at(10), 120, service="gitea")],
    ),
    "silent_host": (
        "pi-01 (pi-hole DNS) loses power at 09:00 and is silent for two hours.",
        14,
        38,
        [fault("silent-pi", FaultKind.SILENT_HOST, at(9), 120, host="pi-01")],
    ),
    "new_error_template": (
        "postgres starts reporting a never-seen ERROR (a short read of a data block, a "
        "corruption sign) at 10:00, a few times over an hour.",
        15,
        38,
        [fault("pg-read-error", FaultKind.NEW_ERROR_TEMPLATE, at(10), 60, service="postgres")],
    ),
    "error_spike": (
        "nextcloud's usual error (a few an hour) jumps to 20-60 a minute for 15 minutes at "
        "11:00 (a sync client looping over a deleted file); other services are unaffected.",
        16,
        38,
        [fault("nextcloud-spike", FaultKind.ERROR_SPIKE, at(11), 15, service="nextcloud")],
    ),
    "noise_sshd_burst": (
        "A botnet hammers sshd on nas-01 for 15 minutes at 03:00: thousands of failed "
        "passwords and 'maximum authentication attempts exceeded' errors. Must not page.",
        17,
        36,
        [fault("ssh-botnet", FaultKind.NOISE_BURST, at(3), 15, host="nas-01")],
    ),
    "noise_scanner_burst": (
        "A scanner and an ssh botnet hit web-01 for 10 minutes at 10:00: thousands of 404s "
        "for /wp-login.php, /.env, /.git/config (nginx also logs an [error] 'open() failed' "
        "line for each static one) and sshd failures. Must not page.",
        18,
        38,
        [fault("web-scan", FaultKind.NOISE_BURST, at(10), 10, host="web-01")],
    ),
    "benign_warning": (
        "After an OS upgrade at 09:00, postgres warns of a collation version mismatch on "
        "every connection: a new WARNING template, harmless. Must not page.",
        19,
        38,
        [fault("pg-collation", FaultKind.BENIGN_WARNING, at(9), 180, service="postgres")],
    ),
    "quiet_baseline": (
        "Two ordinary days: diurnal traffic, the usual few errors an hour, sshd brute force "
        "and scanners. Nothing is wrong; every incident is a false one.",
        20,
        48,
        [],
    ),
}


def digest(seed: int, hours: int, faults: list[Fault]) -> str:
    h = hashlib.sha256()
    for raw in generate_jsonl(hours * 60, start=START, seed=seed, faults=faults):
        h.update(raw)
    return h.hexdigest()


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def scenario_yaml(name: str) -> str:
    description, seed, hours, faults = SCENARIOS[name]
    injected = []
    for f in faults:
        item: dict[str, object] = {"id": f.id, "kind": f.kind.value}
        if f.service is not None:
            item["service"] = f.service
        if f.kind in (FaultKind.SILENT_HOST, FaultKind.NOISE_BURST):
            item["host"] = f.host
        item["at"] = _iso(f.start)
        item["minutes"] = int(f.duration / timedelta(minutes=1))
        injected.append(item)
    doc = {
        "description": description,
        "inventory": "inventory.yaml",
        "logs": {
            "synth": {"seed": seed, "start": _iso(START), "hours": hours, "faults": injected},
            "sha256": digest(seed, hours, faults),
        },
        "expect": {"faults": [e for f in faults if (e := f.expected()) is not None]},
    }
    header = "# Written by tests/scenarios/generate.py; edit the table there, then re-run it.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, width=100, default_flow_style=None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on a difference")
    parser.add_argument("--dump", type=Path, help="also write <DIR>/<name>.jsonl.gz")
    args = parser.parse_args(argv)
    inventory = INVENTORY.read_text()
    stale = []
    for name in SCENARIOS:
        folder = HERE / name
        want = scenario_yaml(name)
        have = (
            (folder / "scenario.yaml").read_text() if (folder / "scenario.yaml").exists() else None
        )
        inv = folder / "inventory.yaml"
        if have != want or not inv.exists() or inv.read_text() != inventory:
            stale.append(name)
            if not args.check:
                folder.mkdir(exist_ok=True)
                (folder / "scenario.yaml").write_text(want)
                shutil.copyfile(INVENTORY, inv)
        if args.dump:
            _, seed, hours, faults = SCENARIOS[name]
            args.dump.mkdir(parents=True, exist_ok=True)
            with gzip.GzipFile(args.dump / f"{name}.jsonl.gz", "wb", mtime=0) as out:
                for raw in generate_jsonl(hours * 60, start=START, seed=seed, faults=faults):
                    out.write(raw)
    verb = "out of date" if args.check else "written"
    print(f"{len(stale)} of {len(SCENARIOS)} scenarios {verb}: {', '.join(stale) or '-'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
