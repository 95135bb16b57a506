"""The primitive library: real-looking lines, masked by the template miner, are
classified by kind; ordinary lines are not; the detector fires at once, per
(service, host, kind) per cooldown, and re-classifies a generalised template."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from detector.detectors.base import CountRow, Window
from detector.detectors.primitive import PRIMITIVES, PrimitiveConfig, PrimitiveDetector, classify
from logvigil.core.events import Severity
from logvigil.ingest.templates import TemplateMiner

T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)
MIN = timedelta(minutes=1)


def template_of(line: str) -> str:
    return TemplateMiner().add(line).template


POSITIVES = [
    (
        "Out of memory: Killed process 2811 (postgres) total-vm:8811234kB, anon-rss:7700000kB, file-rss:0kB, shmem-rss:0kB, UID:999 pgtables:16000kB oom_score_adj:0",
        "oom_kill",
    ),
    (
        "kernel: Memory cgroup out of memory: Killed process 4121 (java) total-vm:4194304kB",
        "oom_kill",
    ),
    (
        "kernel: postgres invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0",
        "oom_kill",
    ),
    ("postgresql.service: A process of this unit has been killed by the OOM killer.", "oom_kill"),
    (
        "kernel: EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm nginx: reading directory lblock 0",
        "fs_error",
    ),
    ("XFS (dm-0): Corruption detected. Unmount and run xfs_repair", "fs_error"),
    (
        "BTRFS error (device sdb1): bdev /dev/sdb1 errs: wr 0, rd 1, flush 0, corrupt 0, gen 0",
        "fs_error",
    ),
    (
        'postgres[811]: could not write to file "pg_wal/xlogtemp.811": No space left on device',
        "disk_full",
    ),
    ("write /var/lib/docker/overlay2/abc/diff/tmp: no space left on device", "disk_full"),
    ("Error: ENOSPC: no space left on device, write", "disk_full"),
    (
        "mysqld: Disk full (/tmp/#sql_1f2_0.MAI); waiting for someone to free some space...",
        "disk_full",
    ),
    ("EXT4-fs (sda1): Remounting filesystem read-only", "read_only_fs"),
    ("touch: cannot touch '/srv/data/x': Read-only file system", "read_only_fs"),
    ("open(/var/lib/app/state) failed: EROFS", "read_only_fs"),
    ("Error: EROFS: read-only file system, open '/app/data/x.db'", "read_only_fs"),
    (
        "blk_update_request: I/O error, dev sda, sector 123 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0",
        "io_error",
    ),
    ("Buffer I/O error on dev sda1, logical block 0, async page read", "io_error"),
    ("cp: error reading '/mnt/disk/file': Input/output error", "io_error"),
    ("ata1.00: exception Emask 0x0 SAct 0x0 SErr 0x0 action 0x0", "io_error"),
    ("sd 0:0:0:0: [sda] tag#0 Sense Key : Medium Error [current]", "io_error"),
    (
        "nginx[2211]: segfault at 0 ip 00007f3a2b1c4d5e sp 00007ffd1c2b3a40 error 4 in libc.so.6[7f3a2b000000+195000]",
        "segfault",
    ),
    # the shell's report of its child: the kernel's shape alone is `segfault`
    ("/usr/bin/app: line 3:  1234 Segmentation fault      (core dumped) ./app", "core_dump"),
    (
        "traps: php-fpm[811] general protection fault ip:55d0 sp:7ffc error:0 in php-fpm[55d0+2a000]",
        "segfault",
    ),
    (
        "httpd[28473]: segfault at 0000000000000000 rip 00002aaaab0c1d2e rsp 00007fff5a4b error 4",
        "segfault",
    ),
    (
        "php[77] general protection ip:7f1a2b sp:7ffd1c error:0 in libc-2.5.so[7f1a+14d000]",
        "segfault",
    ),
    ("traps: a.out[4242] trap invalid opcode ip:55d0c0a1 sp:7ffc1a2b error:0 in a.out", "segfault"),
    ("Kernel panic - not syncing: Out of memory and no killable processes...", "kernel_panic"),
    ("Oops: 0000 [#1] SMP", "kernel_oops"),
    ("watchdog: BUG: soft lockup - CPU#3 stuck for 22s! [kworker/3:1:123]", "cpu_lockup"),
    ("INFO: task kworker/0:1:123 blocked for more than 120 seconds.", "hung_task"),
    ("mce: Uncorrected hardware memory error in user-access at 2f6b8d400", "machine_check"),
    ("igc 0000:03:00.0 eth0: Detected Tx Unit Hang", "nic_hang"),
    ("nf_conntrack: table full, dropping packet", "conntrack_full"),
    ("systemd-coredump[811]: Process 1234 (nginx) of user 33 dumped core.", "core_dump"),
    ("md/raid1:md0: Disk failure on sdb1, disabling device.", "raid_degraded"),
    # the template of every state; only its lines raised to CRITICAL count
    ("eid=15 class=statechange pool='Pool' vdev=sdd1 vdev_state=UNAVAIL", "zfs_vdev_fault"),
    ("i915 0000:00:02.0: [drm] GPU HANG: ecode 9:1:e757fefe, in chrome [25627]", "gpu_hang"),
    ("init: mysql main process (1234) killed by SEGV signal", "process_crashed"),
    ("init: mysql respawning too fast, stopped", "restart_loop"),
    ("Device: /dev/sda [SAT], FAILED SMART self-check. BACK UP DATA NOW!", "disk_failing"),
    ("thermal thermal_zone0: critical temperature reached (105 C), shutting down", "overheat"),
    ("hwmon hwmon1: Undervoltage detected!", "undervoltage"),
    ("nfs: server 10.2.80.41 not responding, still trying", "netfs_unresponsive"),
    ('Exception in thread "main" java.lang.OutOfMemoryError: Java heap space', "out_of_memory"),
    (
        "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
        "kernel_panic",
    ),
    ("accept4() failed (24: Too many open files)", "too_many_open_files"),
    ("Too many open files", "too_many_open_files"),
    ("Error: EMFILE: too many open files, open '/app/config.json'", "too_many_open_files"),
    ("VFS: file-max limit 8192 reached", "too_many_open_files"),
    # ABRT keeping a crashed process's core (abrt-hook-ccpp.c's format string)
    (
        "Saved core dump of pid 2317 (/usr/sbin/httpd) to "
        "/var/spool/abrt/ccpp-2016-03-04-10:00:01-2317 (8712192 bytes)",
        "core_dump",
    ),
    # earlyoom 1.6 and 1.7 (kill.c's format strings)
    (
        'sending SIGTERM to process 2454 uid 1000 "firefox": badness 806, VmRSS 3022 MiB',
        "oom_kill",
    ),
    (
        'sending SIGKILL to process 1234 uid 1000 "chrome": oom_score 900, VmRSS 2048 MiB, '
        'cmdline "/opt/google/chrome/chrome --type=renderer"',
        "oom_kill",
    ),
    ("systemd[1]: nextcloud.service: Failed with result 'exit-code'.", "unit_failed"),
    ("systemd[1]: postgresql.service: Failed with result 'oom-kill'.", "oom_kill"),
    ("systemd[1]: nextcloud.service: Start request repeated too quickly.", "restart_loop"),
    (
        "x509: certificate has expired or is not yet valid: current time 2026-03-04T10:00:00Z is after 2026-03-01T00:00:00Z",
        "cert_expired",
    ),
    ("SSL routines:ssl3_read_bytes:sslv3 alert certificate expired", "cert_expired"),
    ("curl: (60) SSL certificate problem: certificate has expired", "cert_expired"),
    ("Error: certificate has expired (CERT_HAS_EXPIRED)", "cert_expired"),
]

NEGATIVES = [
    "0 errors",
    "backup finished: 0 errors, 12 warnings",
    "disk usage 45%",
    "disk usage on /var is 91%, 3.5GB free",
    "systemd[1]: Started nextcloud.service - Nextcloud.",
    "systemd[1]: nextcloud.service: Succeeded.",
    "systemd[1]: nextcloud.service: Deactivated successfully.",
    "kernel: EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null)",
    "kernel: EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro",
    "oom_score_adj set to -1000 for pid 812",
    "certificate expires in 10 days",
    "certificate renewed, valid until 2026-06-01",
    "Memory: 16384MB total, 3120MB free",
    "open files limit raised to 65536",
    "GET /api/files?full=1 HTTP/1.1 200 512",
    "user alice logged in from 10.0.0.5",
    "connection pool: 5 idle, 0 waiting, 12 total",
    "LOG:  checkpoint complete: wrote 12 buffers (0.1%)",
    # ABRT's other notes
    "abrtd is not running. If it crashed, /proc/sys/kernel/core_pattern contains a stale value",
    # earlyoom watching, not killing
    "earlyoom v1.7",
    "mem avail: 5432 of 7842 MiB (69.27%), swap free: 1023 of 1023 MiB (100.00%)",
    "sending SIGTERM to process group 1234 of the backup job",
    # the Enhanced Read-Only File System mounting an image (fs/erofs/super.c), not the errno
    "kernel: erofs: (device loop0): mounted with root inode @ nid 36.",
    "kernel: erofs (device dm-1): mounted with root inode @ nid 40.",
    # systemd-sysctl in a container whose /proc/sys is read-only: a step it skips
    "systemd-sysctl[47]: Couldn't write '1' to 'kernel/sysrq', ignoring: Read-only file system",
]


@pytest.mark.parametrize(
    ("line", "kind"), POSITIVES, ids=[k + ":" + line[:30] for line, k in POSITIVES]
)
def test_a_catastrophic_line_is_classified_by_its_masked_template(line: str, kind: str) -> None:
    text = template_of(line)
    found = classify(text)
    assert found is not None, f"no primitive for template {text!r}"
    assert found.name == kind, f"template {text!r}"
    # The raw line is classified the same way.
    assert classify(line) is found
    # And the detector's needle pre-filter lets it through.
    assert PrimitiveDetector().kind_of(1, text) is found


@pytest.mark.parametrize("line", NEGATIVES)
def test_an_ordinary_line_is_not_a_primitive(line: str) -> None:
    assert classify(template_of(line)) is None
    assert classify(line) is None


def test_every_builtin_primitive_has_a_positive_example() -> None:
    assert {p.name for p in PRIMITIVES} <= {kind for _, kind in POSITIVES}


def test_every_builtin_primitive_has_needles_and_a_unique_name() -> None:
    names = [p.name for p in PRIMITIVES]
    assert len(names) == len(set(names))
    assert all(p.needles for p in PRIMITIVES)


def oom_window(minute: int, *, host: str = "db-01", service: str = "postgres") -> Window:
    ts = T0 + minute * MIN
    return Window(
        ts,
        ts + MIN,
        (
            CountRow(ts, host, service, 33, Severity.ERROR, 1),
            CountRow(ts, host, service, 34, Severity.INFO, 500),
        ),
        {
            33: "Out of memory: Killed process <*> (postgres) total-vm:<*>",
            34: "checkpoint complete",
        },
    )


def test_a_primitive_fires_on_the_very_first_tick_with_host_and_service_of_the_row() -> None:
    det = PrimitiveDetector()
    (f,) = det.evaluate(oom_window(0, service="kernel"), {}, T0 + MIN)[0]
    assert f.summary == "kernel on db-01: OOM kill (template #33)"
    assert (f.detector, f.kind, f.template_id, f.severity) == (
        "primitive",
        "oom_kill",
        33,
        Severity.CRITICAL,
    )
    assert (f.service, f.host, f.started_at, f.at) == ("kernel", "db-01", T0, T0 + MIN)
    assert f.key == "primitive|kernel|oom_kill"
    assert f.evidence == {"count": 1, "template_ids": [33]}


def test_a_repeating_primitive_fires_once_per_cooldown_per_service_host_and_kind() -> None:
    det = PrimitiveDetector(PrimitiveConfig(cooldown_minutes=10))
    state: dict = {}
    fired: list[int] = []
    for m in range(25):
        w = oom_window(m)
        w2 = oom_window(m, host="db-02")
        rows = w.rows + w2.rows
        found, new_state = det.evaluate(Window(w.start, w.end, rows, w.templates), state, w.end)
        state = json.loads(json.dumps(new_state))
        fired += [m for f in found if f.host == "db-01"]
        assert len(found) in (0, 2)
    assert fired == [0, 10, 20]
    # Small state: only the last firing per (kind, host).
    t20 = int((T0 + 20 * MIN).timestamp()) // 60
    assert state == {"postgres": {"v": 1, "c": {"oom_kill": {"db-01": t20, "db-02": t20}}}}


def test_a_restart_inside_the_cooldown_does_not_refire() -> None:
    det = PrimitiveDetector()
    _, state = det.evaluate(oom_window(0), {}, T0 + MIN)
    again = PrimitiveDetector()  # new process, persisted state
    found, _ = again.evaluate(oom_window(3), json.loads(json.dumps(state)), T0 + 4 * MIN)
    assert found == []


def test_a_multi_minute_window_applies_the_cooldown_minute_by_minute() -> None:
    rows = tuple(r for m in range(30) for r in oom_window(m).rows)
    w = Window(T0, T0 + 30 * MIN, rows, oom_window(0).templates)
    found, _ = PrimitiveDetector().evaluate(w, {}, w.end)
    assert [f.started_at for f in found] == [T0, T0 + 10 * MIN, T0 + 20 * MIN]


def test_a_template_whose_text_generalises_is_classified_again() -> None:
    det = PrimitiveDetector()
    assert det.kind_of(7, "worker <*> started") is None
    found = det.kind_of(7, "worker <*> <*> Too many open files")
    assert found is not None and found.name == "too_many_open_files"


def test_a_user_primitive_is_matched_before_the_builtins_with_its_own_summary() -> None:
    cfg = PrimitiveConfig.model_validate(
        {
            "extra": [
                {
                    "name": "raid_degraded",
                    "pattern": r"md\S*: .*degraded",
                    "severity": "critical",
                    "summary": "{host}: RAID degraded ({count} lines)",
                }
            ]
        }
    )
    det = PrimitiveDetector(cfg)
    ts = T0
    w = Window(
        ts,
        ts + MIN,
        (CountRow(ts, "nas", "kernel", 5, Severity.ERROR, 2),),
        {5: "md/raid1:md0: Disk failure on sdb1, degraded mode"},
    )
    (f,) = det.evaluate(w, {}, ts + MIN)[0]
    assert (f.kind, f.severity, f.summary) == (
        "raid_degraded",
        Severity.CRITICAL,
        "nas: RAID degraded (2 lines)",
    )
    # Named like a built-in, it replaces the built-in: one kind, one pattern.
    assert [p.name for p in det.library].count("raid_degraded") == 1
    assert det.kind_of(6, "DegradedArray event detected on md device /dev/md0", "mdadm") is None
    builtin = PrimitiveDetector().kind_of(6, "DegradedArray event detected on md device /dev/md0")
    assert builtin is not None and builtin.name == "raid_degraded"


def test_a_disabled_builtin_does_not_fire() -> None:
    det = PrimitiveDetector(PrimitiveConfig(disabled=("oom_kill",)))
    assert det.evaluate(oom_window(0), {}, T0 + MIN)[0] == []
