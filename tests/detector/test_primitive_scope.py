"""Primitives match the producing subsystem's real wording, scoped by producer.

Lines are quoted from ../shared/data/real_logs (file named) or are the kernel's,
systemd's and the shell's well-known wording (the format string named). Each is
classified as its template, with the service a reader and attribution give it;
the same words from another program, and the ordinary lines around them, are not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from detector.detectors.base import CountRow, Window
from detector.detectors.primitive import (
    PRIMITIVES,
    PrimitiveConfig,
    PrimitiveDetector,
    classify,
)
from logvigil.core.events import Severity
from logvigil.ingest.templates import TemplateMiner

REAL_LOGS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real_logs"
T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)
MIN = timedelta(minutes=1)


def template_of(line: str) -> str:
    return TemplateMiner().add(line).template


# (service as attributed, line, kind)
SCOPED_POSITIVES = [
    # -- the crash family (kernel/panic.c, arch/x86/mm/fault.c, kernel/watchdog*.c,
    # kernel/hung_task.c, arch/x86/kernel/cpu/mce) --
    ("kernel", "Kernel panic - not syncing: Fatal exception in interrupt", "kernel_panic"),
    ("kernel", "Oops: 0000 [#1] SMP", "kernel_oops"),
    ("kernel", "Oops: general protection fault, probably for non-canonical address", "kernel_oops"),
    (
        "kernel",
        "BUG: unable to handle kernel NULL pointer dereference at 0000000000000008",
        "kernel_oops",
    ),
    ("kernel", "BUG: kernel NULL pointer dereference, address: 0000000000000010", "kernel_oops"),
    ("kernel", "kernel BUG at mm/slub.c:3880!", "kernel_oops"),
    ("kernel", "general protection fault: 0000 [#1] SMP PTI", "kernel_oops"),
    ("kernel", "BUG: soft lockup - CPU#0 stuck for 67s! [java:1234]", "cpu_lockup"),
    ("kernel", "watchdog: BUG: soft lockup - CPU#3 stuck for 22s! [kworker/3:1:123]", "cpu_lockup"),
    ("kernel", "NMI watchdog: Watchdog detected hard LOCKUP on cpu 2", "cpu_lockup"),
    ("kernel", "NMI Watchdog detected LOCKUP on CPU 1, registers:", "cpu_lockup"),
    ("kernel", "NMI Watchdog detected LOCKUP on CPU1, eip c0119e6a, registers:", "cpu_lockup"),
    ("kernel", "rcu: INFO: rcu_sched detected stalls on CPUs/tasks:", "cpu_lockup"),
    ("kernel", "INFO: task kworker/0:1:123 blocked for more than 120 seconds.", "hung_task"),
    ("kernel", "INFO: task nfsd:811 blocked for more than 122 seconds.", "hung_task"),
    (
        "kernel",
        "Memory failure: 0x2f6b8d: recovery action for dirty LRU page: Recovered",
        "machine_check",
    ),
    ("kernel", "[Hardware Error]: Uncorrected, software restartable error.", "machine_check"),
    (
        "kernel",
        "mce: [Hardware Error]: CPU 0: Machine Check Exception: 5 Bank 4: b200000000070f0f",
        "machine_check",
    ),
    # EDAC's uncorrected memory errors (drivers/edac/edac_mc.c), today's and 2.6's
    (
        "kernel",
        "EDAC MC0: 1 UE memory read error on CPU_SrcID#0_Ha#0_Chan#0_DIMM#0 (channel:0 "
        "slot:0 page:0x12345 offset:0x0 grain:32 syndrome:0x0 - area:DRAM err_code:0101:0090)",
        "machine_check",
    ),
    (
        "kernel",
        'EDAC MC0: UE page 0x0, offset 0x0, grain 0, row 0, labels ":": i3200 UE',
        "machine_check",
    ),
    # -- netfilter's full connection table (nf_conntrack_core.c; ip_conntrack before 2.6.20)
    ("kernel", "nf_conntrack: table full, dropping packet", "conntrack_full"),
    ("kernel", "nf_conntrack: nf_conntrack: table full, dropping packet", "conntrack_full"),
    ("kernel", "ip_conntrack: table full, dropping packet.", "conntrack_full"),
    # -- ext4's journal and SCSI giving up (fs/jbd2, drivers/scsi/scsi_lib.c) --
    ("kernel", "JBD2: Detected IO errors while flushing file data on sda1-8", "io_error"),
    ("kernel", "sd 2:0:0:0: rejecting I/O to offline device", "io_error"),
    ("kernel", "Aborting journal on device sda1-8.", "fs_error"),
    # -- an OpenZFS pool stopped (module/zfs/zio.c, zio_suspend), on a Proxmox host --
    (
        "kernel",
        "WARNING: Pool 'mypassport' has encountered an uncorrectable I/O failure and has been "
        "suspended.",
        "fs_error",
    ),
    # -- a thin pool out of data space (drivers/md/dm-thin.c) --
    (
        "kernel",
        "device-mapper: thin: 253:2: switching pool to out-of-data-space (queue IO) mode",
        "disk_full",
    ),
    # -- OOM kills, attributed to their victim (mm/oom_kill.c, old and new wording) --
    ("httpd", "Out of Memory: Killed process 28473 (httpd).", "oom_kill"),  # loghub
    ("httpd", "Out of memory: Kill process 1234 (httpd) score 500 or sacrifice child", "oom_kill"),
    # -- systemd-oomd's kills (src/oom/oomd-util.c), attributed to the unit killed --
    (
        "flatpak-session-helper",
        "Killed /user.slice/user-1000.slice/user@1000.service/app.slice/"
        "flatpak-session-helper.service due to memory pressure for /user.slice/"
        "user-1000.slice/user@1000.service/app.slice being 82.36% > 80.00% for > 20s with "
        "reclaim activity",
        "oom_kill",
    ),
    (
        "app-gnome-firefox-4321.scope",
        "app-gnome-firefox-4321.scope: systemd-oomd killed 19 process(es) in this unit.",
        "oom_kill",
    ),
    # -- file systems: the kernel's wording (fs/ext4/super.c, fs/xfs, fs/btrfs) --
    (
        "kernel",
        "EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm nginx: "
        "reading directory lblock 0",
        "fs_error",
    ),
    (
        "kernel",
        "EXT3-fs error (device hda2): ext3_free_blocks: bit already cleared for block 12345",
        "fs_error",
    ),
    ("kernel", "XFS (sda1): Corruption detected. Unmount and run xfs_repair", "fs_error"),
    ("kernel", "XFS (dm-0): Filesystem has been shut down due to log error (0x2).", "fs_error"),
    ("kernel", "XFS (dm-0): Log I/O Error Detected. Shutting down filesystem", "fs_error"),
    (
        "kernel",
        'XFS (sdb1): metadata I/O error in "xfs_trans_read_buf_map" at daddr 0x2 len 1 error 5',
        "fs_error",
    ),
    (
        "kernel",
        "BTRFS error (device sdb1): bdev /dev/sdb1 errs: wr 0, rd 1, flush 0, corrupt 0, gen 0",
        "fs_error",
    ),
    ("kernel", "BTRFS critical (device dm-0): corrupt leaf: root=2 block=123 slot=4", "fs_error"),
    # -- block devices (block/blk-core.c, fs/buffer.c, drivers/ata, drivers/ide, nvme) --
    (
        "kernel",
        "blk_update_request: I/O error, dev sda, sector 123 op 0x0:(READ) flags 0x0",
        "io_error",
    ),
    (
        "kernel",
        "I/O error, dev sda, sector 2048 op 0x0:(READ) flags 0x80700 phys_seg 1",
        "io_error",
    ),
    ("kernel", "Buffer I/O error on dev sda1, logical block 0, async page read", "io_error"),
    ("kernel", "end_request: I/O error, dev sda, sector 123456", "io_error"),
    (
        "kernel",
        "blk_update_request: critical medium error, dev sdb, sector 1234 op 0x0:(READ)",
        "io_error",
    ),
    ("kernel", "ata1.00: exception Emask 0x0 SAct 0x0 SErr 0x0 action 0x0", "io_error"),
    ("kernel", "ata3.00: failed command: READ FPDMA QUEUED", "io_error"),
    ("kernel", "nvme nvme0: I/O 123 QID 4 timeout, aborting", "io_error"),
    # loghub, 11-10 16:00:31: the IDE DMA timeout on hda (drivers/ide/ide-dma.c)
    ("kernel", "hda: dma_timer_expiry: dma status == 0x20", "io_error"),
    ("kernel", "hda: DMA timeout retry", "io_error"),
    ("kernel", "hda: timeout waiting for DMA", "io_error"),
    # -- network adapters (igc/igb/e1000e, net/sched/sch_generic.c, r8169, tg3) --
    ("kernel", "igc 0000:03:00.0 eth0: Detected Tx Unit Hang", "nic_hang"),
    ("kernel", "e1000e 0000:00:1f.6 eno1: Detected Hardware Unit Hang:", "nic_hang"),
    ("kernel", "e1000e 0000:00:1f.6 eno1: Reset adapter unexpectedly", "nic_hang"),
    ("kernel", "igc 0000:03:00.0 enp3s0: Reset adapter", "nic_hang"),
    ("kernel", "NETDEV WATCHDOG: eth0 (r8169): transmit queue 0 timed out", "nic_hang"),
    (
        "kernel",
        "r8169 0000:02:00.0 eth0: rtl_rxtx_empty_cond == 1 (loop: 42, delay: 100).",
        "nic_hang",
    ),
    ("kernel", "tg3 0000:02:00.0 eth0: transmit timed out, resetting", "nic_hang"),
    # -- GPU hangs: i915's error capture (old and new prefix), amdgpu's job timeout
    # (old DRM_ERROR and new dev_err form), radeon's, NVIDIA's Xid 79 --
    (
        "kernel",
        "[drm] GPU HANG: ecode 7:0:0x85df3c1c, in Xorg [19819], reason: Ring hung, action: reset",
        "gpu_hang",
    ),
    (
        "kernel",
        "i915 0000:00:02.0: [drm] GPU HANG: ecode 9:1:e757fefe, in chrome [25627]",
        "gpu_hang",
    ),
    (
        "kernel",
        "[drm:amdgpu_job_timedout [amdgpu]] *ERROR* ring gfx timeout, signaled seq=1, "
        "emitted seq=3",
        "gpu_hang",
    ),
    (
        "kernel",
        "amdgpu 0000:09:00.0: ring gfx_0.0.0 timeout, signaled seq=5131, emitted seq=5132",
        "gpu_hang",
    ),
    ("kernel", "radeon 0000:01:00.0: ring 0 stalled for more than 10000msec", "gpu_hang"),
    (
        "kernel",
        "radeon 0000:01:00.0: GPU lockup (current fence id 0x000000000001b8f9 last fence id "
        "0x000000000001b8fa on ring 0)",
        "gpu_hang",
    ),
    (
        "kernel",
        "NVRM: Xid (PCI:0000:06:00): 79, pid=1234, GPU has fallen off the bus.",
        "gpu_hang",
    ),
    # -- RAID: the kernel's md drivers (drivers/md/raid1.c, raid10.c, raid5.c; 2.6's
    # "raid1: ...") and mdadm --monitor's events (Monitor.c) --
    ("kernel", "md/raid1:md0: Disk failure on sdb1, disabling device.", "raid_degraded"),
    ("kernel", "md/raid10:md2: Disk failure on sdd3, disabling device.", "raid_degraded"),
    (
        "kernel",
        "raid5: Disk failure on sdc1, disabling device. Operation continuing on 2 devices",
        "raid_degraded",
    ),
    ("kernel", "md/raid:md127: Cannot continue operation (2/4 failed).", "raid_degraded"),
    (
        "mdadm",
        "Fail event detected on md device /dev/md0, component device /dev/sdb1",
        "raid_degraded",
    ),
    ("mdadm", "DegradedArray event detected on md device /dev/md/0", "raid_degraded"),
    # zed.d/all-syslog.sh (ZFS 2.1.5): the template of every state; only its lines raised
    # to CRITICAL count (test_primitive_zfs.py)
    (
        "zed",
        "eid=15 class=statechange pool='Pool' vdev=sdd1 vdev_state=UNAVAIL",
        "zfs_vdev_fault",
    ),
    # -- smartd's warnings of a dying disk (smartmontools smartd.cpp, LOG_CRIT) --
    (
        "smartd",
        "Device: /dev/sda [SAT], FAILED SMART self-check. BACK UP DATA NOW!",
        "disk_failing",
    ),
    ("smartd", "Device: /dev/sdb [SAT], 8 Currently unreadable (pending) sectors", "disk_failing"),
    ("smartd", "Device: /dev/sdb [SAT], 1 Offline uncorrectable sectors", "disk_failing"),
    (
        "smartd",
        "Device: /dev/sda [SAT], Failed SMART usage Attribute: 5 Reallocated_Sector_Ct.",
        "disk_failing",
    ),
    ("smartd", "Device: /dev/nvme0, Critical Warning (0x04): Reliability", "disk_failing"),
    # -- a thermal shutdown (drivers/thermal/thermal_core.c before and since 5.12,
    # drivers/acpi/thermal.c) --
    (
        "kernel",
        "thermal thermal_zone0: critical temperature reached (105 C), shutting down",
        "overheat",
    ),
    (
        "kernel",
        "thermal thermal_zone0: acpitz: critical temperature reached, shutting down",
        "overheat",
    ),
    ("kernel", "Critical temperature reached (99 C), shutting down.", "overheat"),
    # a Raspberry Pi on a weak supply (raspberrypi-hwmon; the firmware driver before it)
    ("kernel", "hwmon hwmon1: Undervoltage detected!", "undervoltage"),
    (
        "kernel",
        "raspberrypi-firmware soc:firmware: Under-voltage detected! (0x00050005)",
        "undervoltage",
    ),
    # a hard NFS mount whose server went away (posted boot logs, the uptime removed)
    ("kernel", "nfs: server 10.100.0.60 not responding, still trying", "netfs_unresponsive"),
    ("kernel", "nfs: server nas01 not responding, timed out", "netfs_unresponsive"),
    # an SMB share gone (Unraid's kernel log; an older kernel's kern.log, the address
    # the poster hid)
    (
        "kernel",
        "CIFS: VFS: \\\\192.168.12.152 has not responded in 180 seconds. Reconnecting...",
        "netfs_unresponsive",
    ),
    (
        "kernel",
        "CIFS VFS: Server 192.168.1.20 has not responded in 180 seconds. Reconnecting...",
        "netfs_unresponsive",
    ),
    # -- a program out of memory in its runtime's words (the JVM, Go's runtime, V8) --
    ("java", "java.lang.OutOfMemoryError: Java heap space", "out_of_memory"),
    (
        "tomcat9",
        'Exception in thread "http-nio-8080-exec-3" java.lang.OutOfMemoryError: '
        "GC overhead limit exceeded",
        "out_of_memory",
    ),
    (
        "elasticsearch",
        "Terminating due to java.lang.OutOfMemoryError: Java heap space",
        "out_of_memory",
    ),
    ("prometheus", "fatal error: runtime: out of memory", "out_of_memory"),
    (
        "node",
        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
        "out_of_memory",
    ),
    # -- processes: the kernel's segfault report, the shell's and systemd's --
    (
        "kernel",
        "[ 1234.567890] nginx[2211]: segfault at 0 ip 00007f3a2b1c4d5e sp 00007ffd1c2b3a40 "
        "error 4 in libc.so.6[7f3a2b000000+195000]",
        "segfault",
    ),
    (
        "kernel",
        "traps: php-fpm[811] general protection fault ip:55d0 sp:7ffc error:0 in php-fpm",
        "segfault",
    ),
    (
        "bash",
        "/usr/bin/app: line 3:  1234 Segmentation fault      (core dumped) ./app",
        "core_dump",
    ),
    ("systemd-coredump", "Process 1234 (nginx) of user 33 dumped core.", "core_dump"),
    # -- Upstart's jobs (init/job_process.c, job.c), attributed to the job, as written
    # under `init` and, with "init: " in front, under `kernel` --
    ("mysql", "mysql main process (1234) killed by SEGV signal", "process_crashed"),
    ("mysql", "init: mysql main process (1234) killed by ABRT signal", "process_crashed"),
    ("mysql", "mysql respawning too fast, stopped", "restart_loop"),
    # -- a runtime's last words as its process dies: Go's printpanics and throw,
    # CPython's Py_FatalError, HotSpot's error report, glibc's aborts --
    (
        "api",
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "process_crashed",
    ),
    ("api", "fatal error: concurrent map writes", "process_crashed"),
    ("worker", "Fatal Python error: Segmentation fault", "process_crashed"),
    (
        "tomcat9",
        "# A fatal error has been detected by the Java Runtime Environment:",
        "process_crashed",
    ),
    ("nginx", "*** stack smashing detected ***: terminated", "process_crashed"),
    ("nginx", "*** buffer overflow detected ***: terminated", "process_crashed"),
    ("app", "free(): double free detected in tcache 2", "process_crashed"),
    ("app", "malloc(): corrupted top size", "process_crashed"),
    ("app", "double free or corruption (out)", "process_crashed"),
    # MySQL's and MariaDB's crash (sql/signal_handler.cc) and mysqld_safe's restart
    ("mysqld", "11:42:15 UTC - mysqld got signal 11 ;", "process_crashed"),
    ("mariadbd", "[ERROR] mariadbd got signal 6 ;", "process_crashed"),
    ("mysqld_safe", "mysqld restarted", "process_crashed"),
    # the same in MySQL 5.x's error log file, whose lines name no program: mysqld_safe's
    # log_generic writes its own name after the stamp, the handler a dash
    ("unknown", "mysqld_safe mysqld restarted", "process_crashed"),
    ("unknown", "- mysqld got signal 11 ;", "process_crashed"),
    # Rust's main thread panicking; php-fpm's child dying of a fault (fpm_children.c);
    # Redis's crash report (debug.c)
    (
        "unknown",
        "thread 'main' panicked at 'called `Result::unwrap()` on an `Err` value: Os { code: "
        "2, kind: NotFound }', src/main.rs:10:5",
        "process_crashed",
    ),
    (
        "php-fpm",
        "[04-Mar-2026 10:00:00] WARNING: [pool www] child 1234 exited on signal 11 (SIGSEGV) "
        "after 12.345678 seconds from start",
        "process_crashed",
    ),
    ("redis", "Redis 7.0.15 crashed by signal: 11, si_code: 0", "process_crashed"),
    (
        "dovecot",
        "imap(alice)<4711><Kx8fQbQv1MjAqAAB>: Panic: file mail-index-map.c: line 545 "
        "(mail_index_map_lookup_seq_range): assertion failed: (first_uid > 0)",
        "process_crashed",
    ),
    ("dovecot", "master: Panic: Leaked file fd 5: dev 0.12 inode 1005", "process_crashed"),
    ("redis", "=== REDIS BUG REPORT START: Cut & paste starting from here ===", "process_crashed"),
    # a program out of memory in its runtime's words: CPython, Rust's std, the CLR,
    # libstdc++, and fork(2)'s ENOMEM as bash and Redis write it
    ("worker", "MemoryError", "out_of_memory"),
    ("worker", "memory allocation of 1048576 bytes failed", "out_of_memory"),
    (
        "api",
        "Unhandled exception. System.OutOfMemoryException: Exception of type "
        "'System.OutOfMemoryException' was thrown.",
        "out_of_memory",
    ),
    ("app", "terminate called after throwing an instance of 'std::bad_alloc'", "out_of_memory"),
    ("redis", "Can't save in background: fork: Cannot allocate memory", "out_of_memory"),
    ("bash", "/etc/cron.daily/logrotate: fork: Cannot allocate memory", "out_of_memory"),
    # PostgreSQL's postmaster (postmaster.c), as its syslog or stderr prefix leaves it
    (
        "postgres",
        "[3-1] LOG:  server process (PID 5678) was terminated by signal 11: Segmentation fault",
        "process_crashed",
    ),
    (
        "postgres",
        "2026-03-04 10:00:00.123 UTC [811] LOG:  all server processes terminated; reinitializing",
        "process_crashed",
    ),
    # -- units, attributed to the unit (plemma, 05-22 22:53:42) --
    ("cyrus-imapd", "cyrus-imapd.service: Failed with result 'exit-code'.", "unit_failed"),
    ("cyrus-imapd", "Unit cyrus-imapd.service entered failed state.", "unit_failed"),
    ("cyrus-imapd", "cyrus-imapd.service: Start request repeated too quickly.", "restart_loop"),
]

# The same words from a program that does not write them, or ordinary lines beside them.
NEAR_MISSES = [
    # loghub: the X font server's init script at the 12-06 reboot, not the XFS file system
    ("xfs", "xfs shutdown failed"),
    ("kernel", "xfs shutdown failed"),
    ("xfs", "xfs shutdown succeeded"),
    # loghub: the IDE disk probed at boot, and the reset that ended the DMA timeout
    ("kernel", "hda: IBM-DTLA-307015, ATA DISK drive"),
    ("kernel", "ide0: reset: success"),
    ("kernel", "EXT3-fs: mounted filesystem with ordered data mode."),
    # elemoine: the i915 WARNING splat, nouveau, usb after resume, boot notes
    (
        "kernel",
        "[    4.252903] WARNING: CPU: 7 PID: 1116 at /build/linux-lts-vivid-whAhIw/"
        "linux-lts-vivid-3.19.0/drivers/gpu/drm/i915/intel_display.c:11379 "
        "intel_crtc_set_config+0xa6d/0xf60 [i915]()",
    ),
    ("kernel", "[    4.252905] WARN_ON(!set->fb && (set->num_connectors != 0))"),
    ("kernel", "[    4.252970] Call Trace:"),
    ("kernel", "[    4.253263] ---[ end trace d065422479cff337 ]---"),
    ("kernel", "[    2.619797] i915 0000:00:02.0: registered panic notifier"),
    ("kernel", "[34849.470322] nouveau E[   PIBUS][0000:02:00.0] HUB0: 0x6013d4 0xffff57ff"),
    ("kernel", "[39495.454966] usb 1-10: device not accepting address 10, error -71"),
    ("kernel", "[39491.754342] ata1.00: configured for UDMA/133"),
    ("kernel", "[    0.641736] tpm_tis 00:05: A TPM error (6) occurred attempting to read a pcr"),
    # the NMI watchdog starting, not finding a lockup
    ("kernel", "NMI watchdog: Enabled. Permanently consumes one hw-PMU counter."),
    ("kernel", "Testing NMI watchdog ... OK."),
    # elemoine and plemma at boot: EDAC and conntrack loading, no error
    ("kernel", "[    2.242471] EDAC MC: Ver: 3.0.0"),
    ("kernel", "[    2.245635] EDAC ie31200: No ECC support"),
    ("kernel", "[    7.037458] nf_conntrack version 0.5.0 (16384 buckets, 65536 max)"),
    (
        "kernel",
        "[ 4407.528841] conntrack: generic helper won't handle protocol 47. Please consider "
        "loading the specific helper module.",
    ),
    # a corrected error is corrected: the CPU's note that it logged events (of any kind),
    # AMD's decoder, a bank's registers at boot; a thin pool back to writing
    ("kernel", "mce: [Hardware Error]: Machine check events logged"),
    ("kernel", "[Hardware Error]: Corrected error, no action required."),
    ("kernel", "mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 5: bea0000000000108"),
    ("kernel", "[    0.061132] mce: CPU supports 9 MCE banks"),
    (
        "kernel",
        "EDAC MC1: 12 CE memory read error on DIMM_A1 (channel:0 slot:0 page:0x1 offset:0x0 "
        "grain:8 syndrome:0x0)",
    ),
    ("kernel", "device-mapper: thin: 253:2: switching pool to write mode"),
    # jbd2 starting its journal at boot, a disk coming online
    ("kernel", "EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null)"),
    ("kernel", "sd 2:0:0:0: [sdb] Attached SCSI disk"),
    # the same words from a program, not from the kernel's netfilter
    ("conntrackd", "nf_conntrack: table full, dropping packet"),
    ("kernel", "[  198.041885] kvm [4052]: vcpu0 unhandled rdmsr: 0x1c9"),
    ("kernel", "[    0.061132] mce: CPU supports 9 MCE banks"),
    ("kernel", "[    0.156695] NMI watchdog: enabled on all CPUs, permanently consumes one"),
    # plemma: boot notes that share a word with a primitive
    ("kernel", "[    0.204897] NMI watchdog: Perf NMI watchdog permanently disabled"),
    ("kernel", "[    0.306748] pci 0000:00:01.0: Activating ISA DMA hang workarounds"),
    ("kernel", "[    5.824604] [TTM] Initializing DMA pool allocator"),
    ("kernel", "[    2.718081] raid6: using avx512x2 recovery algorithm"),
    # well-known ordinary kernel and systemd lines
    (
        "kernel",
        "e1000e 0000:00:1f.6 eno1: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: None",
    ),
    ("kernel", "XFS (sda1): Mounting V5 Filesystem"),
    ("kernel", "XFS (sda1): Unmounting Filesystem"),
    ("kernel", "BTRFS info (device sda2): disk space caching is enabled"),
    ("systemd", "nginx.service: Main process exited, code=exited, status=0/SUCCESS"),
    # systemd-oomd's routine lines, and a library suppressing its readahead
    ("systemd-oomd", "Swap is currently not detected; memory pressure usage will be degraded"),
    ("s3fs", "Suppressing readahead due to memory pressure for s3_key=x with backoff 100ms"),
    # the lines around a GPU hang, and a GPU at work
    ("kernel", "[drm] GPU hangs can indicate a bug anywhere in the entire gfx stack"),
    ("kernel", "[drm:amdgpu_dm_atomic_commit_tail [amdgpu]] *ERROR* Waiting for fences timed out!"),
    ("kernel", "[drm] Initialized amdgpu 3.42.0 20150101 for 0000:09:00.0 on minor 0"),
    ("kernel", "[drm] ring test on 0 succeeded in 1 usecs"),
    ("Xorg", "[drm] GPU HANG: ecode 7:0:0x85df3c1c (quoted by a program)"),
    # RAID, SMART, heat and memory words in routine lines
    ("kernel", "md/raid1:md0: active with 2 out of 2 mirrors"),
    ("kernel", "md: recovery of RAID array md0"),
    ("mdadm", "RebuildFinished event detected on md device /dev/md0"),
    ("mdadm", "NewArray event detected on md device /dev/md0"),
    ("mdadm", "SpareActive event detected on md device /dev/md0, component device /dev/sdb1"),
    (
        "smartd",
        "Device: /dev/sda [SAT], SMART Usage Attribute: 194 Temperature_Celsius changed "
        "from 64 to 63",
    ),
    (
        "smartd",
        "Device: /dev/sda [SAT], SMART Prefailure Attribute: 1 Raw_Read_Error_Rate changed "
        "from 200 to 199",
    ),
    ("smartd", 'Device: /dev/sda [SAT], is SMART capable. Adding to "monitor" list.'),
    ("smartd", "Device: /dev/sda [SAT], previous self-test completed without error"),
    ("kernel", "CPU0: Package temperature above threshold, cpu clock throttled (total events = 1)"),
    ("kernel", "CPU0: Core temperature/speed normal"),
    ("kernel", "thermal LNXTHERM:00: registered as thermal_zone0"),
    ("tomcat9", "Command line argument: -XX:+HeapDumpOnOutOfMemoryError"),
    ("elasticsearch", "JVM arguments [-Xms1g, -Xmx1g, -XX:+ExitOnOutOfMemoryError]"),
    # Upstart stopping a job, and its boot-time noise (Ubuntu 14.04)
    ("tty1", "tty1 main process (1234) killed by TERM signal"),
    ("mysql", "mysql main process (1234) killed by KILL signal"),
    (
        "plymouth-upstart-bridge",
        "plymouth-upstart-bridge main process (393) terminated with status 1",
    ),
    ("plymouth-upstart-bridge", "plymouth-upstart-bridge main process ended, respawning"),
    # PostgreSQL's postmaster at a clean stop, a backend's normal exit
    ("postgres", "LOG:  received fast shutdown request"),
    (
        "postgres",
        'LOG:  background worker "logical replication launcher" (PID 812) exited with exit code 1',
    ),
    ("postgres", "LOG:  database system is shut down"),
    # mysqld_safe after a clean stop, and mysqld at work
    ("mysqld_safe", "mysqld from pid file /var/run/mysqld/mysqld.pid ended"),
    ("mysqld_safe", "Starting mysqld daemon with databases from /var/lib/mysql"),
    ("unknown", "mysqld_safe mysqld from pid file /var/run/mysqld/mysqld.pid ended"),
    ("unknown", "mysqld_safe Number of processes running now: 0"),
    # a panic another thread's runtime may catch (tokio's tasks), a child stopped or
    # killed rather than faulting, a clean exit, a MemoryError handled, Redis stopping
    ("unknown", "thread 'tokio-runtime-worker' panicked at src/main.rs:10:5:"),
    (
        "php-fpm",
        "[04-Mar-2026 10:00:00] WARNING: [pool www] child 1234 exited on signal 9 (SIGKILL) "
        "after 12.345678 seconds from start",
    ),
    (
        "php-fpm",
        "[04-Mar-2026 10:00:00] NOTICE: [pool www] child 1234 exited with code 0 after "
        "12.345678 seconds from start",
    ),
    ("worker", "caught MemoryError in batch 12, retrying with half the rows"),
    # a panic recovered by net/http; a prefix with blanks is prose, not a process's name
    ("api", "http: panic serving 10.0.0.1:51234: runtime error: index out of range"),
    ("api", "the worker said: panic: not really, it was a test"),
    ("redis", "Redis is now ready to exit, bye bye..."),
    ("mysqld", "[Note] /usr/sbin/mysqld: Normal shutdown"),
    # a panic recovered, the lines after a crash's first, a compiler's fatal error
    ("api", "http: panic serving 10.0.0.5:51234: runtime error: index out of range [3]"),
    ("api", "goroutine 1 [running]:"),
    ("api", "recovered from panic: connection reset"),
    ("gcc", "main.c:1:10: fatal error: foo.h: No such file or directory"),
    ("gcc", "cc1: fatal error: foo.h: No such file or directory"),
    ("worker", "Current thread 0x00007f1c2b3c4d40 (most recent call first):"),
    # a word of a scoped primitive from a program that does not write it
    ("myapp", "md/raid1:md0: Disk failure on sdb1, disabling device. (quoted)"),
    ("cron", "smartctl: Device: /dev/sda [SAT], FAILED SMART self-check (a test script)"),
    ("fancontrol", "critical temperature reached, shutting down fans"),
    # kernel wording in another program's line is not the kernel's report
    ("myapp", "Oops: something went wrong, please retry"),
    ("cp", "cp: error reading '/mnt/disk/file': Input/output error"),
    ("grep", "BUG: soft lockup in the test suite"),
    ("php", "notice: hda: DMA timeout retry (quoted from dmesg)"),
    ("zed", "eid=187 class=data pool='mypassport' priority=3 err=28 flags=0x4000"),
    # the recoveries; a program's own words
    ("kernel", "hwmon hwmon1: Voltage normalised"),
    ("kernel", "nfs: server 10.100.0.60 OK"),
    ("pwrmon", "Undervoltage detected! on cell 3 (battery monitor)"),
    ("mount", "mount.nfs: Connection timed out: server not responding"),
    ("kernel", "CIFS: VFS: \\\\10.0.0.8 Send error in read = -11"),
    ("kernel", "zio pool=mypassport vdev=/dev/sdc1 error=5 type=1 offset=4000742645760"),
]


@pytest.mark.parametrize(
    ("service", "line", "kind"),
    SCOPED_POSITIVES,
    ids=[f"{k}:{line[:30]}" for _, line, k in SCOPED_POSITIVES],
)
def test_a_real_line_of_its_producer_is_its_primitive(service: str, line: str, kind: str) -> None:
    text = template_of(line)
    found = classify(text, service=service)
    assert found is not None, f"no primitive for {service}: {text!r}"
    assert found.name == kind, f"{service}: {text!r}"
    assert PrimitiveDetector().kind_of(1, text, service) is found


@pytest.mark.parametrize(
    ("service", "line"), NEAR_MISSES, ids=[f"{s}:{line[:40]}" for s, line in NEAR_MISSES]
)
def test_a_near_miss_is_no_primitive(service: str, line: str) -> None:
    assert classify(template_of(line), service=service) is None
    assert classify(line, service=service) is None


def test_every_builtin_primitive_has_a_real_line_here() -> None:
    assert {p.name for p in PRIMITIVES} <= {k for *_, k in SCOPED_POSITIVES} | {
        "disk_full",
        "read_only_fs",
        "too_many_open_files",
        "cert_expired",
    }


def test_the_kernels_wording_is_scoped_to_the_kernel_and_a_process_failure_is_not() -> None:
    by_name = {p.name: p for p in PRIMITIVES}
    for name in ("kernel_panic", "kernel_oops", "cpu_lockup", "hung_task", "machine_check"):
        assert by_name[name].services is not None and "kernel" in by_name[name].services
    for name in ("fs_error", "io_error", "nic_hang"):
        assert by_name[name].services == by_name["kernel_panic"].services
    # oom_kill and segfault: the kernel's lines, attributed to the process they name
    for name in ("oom_kill", "segfault", "disk_full", "unit_failed", "restart_loop", "core_dump"):
        assert by_name[name].services is None


def test_gpu_raid_smart_and_heat_are_scoped_to_their_writers() -> None:
    by_name = {p.name: p for p in PRIMITIVES}
    kernel = by_name["kernel_panic"].services
    assert kernel is not None
    assert by_name["overheat"].services == kernel
    assert by_name["undervoltage"].services == by_name["netfs_unresponsive"].services == kernel
    assert by_name["gpu_hang"].services == kernel
    assert by_name["raid_degraded"].services == kernel | {"mdadm"}
    assert by_name["disk_failing"].services == {"smartd"}
    # A runtime's own words come from whichever program it runs.
    assert by_name["out_of_memory"].services is None


def xfs_window() -> Window:
    """loghub, 12-06 12:20:29: the X font server's init script, then a kernel line of the
    same template id shape in another service (the cache must not mix them)."""
    text = template_of("xfs shutdown failed")
    return Window(
        T0,
        T0 + MIN,
        (CountRow(T0, "combo", "xfs", 7, Severity.INFO, 1),),
        {7: text},
    )


def test_the_x_font_servers_shutdown_failed_pages_nothing() -> None:
    assert PrimitiveDetector().evaluate(xfs_window(), {}, T0 + MIN)[0] == []


def test_one_template_is_classified_per_producer_not_once_for_all() -> None:
    det = PrimitiveDetector()
    text = template_of("hda: timeout waiting for DMA")
    w = Window(
        T0,
        T0 + MIN,
        (
            CountRow(T0, "combo", "php", 9, Severity.INFO, 1),
            CountRow(T0, "combo", "kernel", 9, Severity.INFO, 1),
        ),
        {9: text},
    )
    (f,) = det.evaluate(w, {}, T0 + MIN)[0]
    assert (f.service, f.kind, f.host) == ("kernel", "io_error", "combo")
    assert det.kind_of(9, text, "php") is None
    assert det.kind_of(9, text, "kernel") is not None


def test_a_user_primitive_may_be_scoped_to_its_producer() -> None:
    cfg = PrimitiveConfig.model_validate(
        {
            "extra": [
                {
                    "name": "raid_degraded",
                    "pattern": r"md\S*: .*degraded",
                    "services": ["kernel"],
                    "severity": "critical",
                }
            ]
        }
    )
    det = PrimitiveDetector(cfg)
    text = "md/raid1:md0: Disk failure on sdb1, disabling device. Operation continuing degraded"
    assert det.kind_of(1, text, "kernel") is not None
    assert det.kind_of(1, text, "mdadm-report") is None


def test_unknown_producer_is_not_ruled_out_by_a_scope() -> None:
    found = classify(template_of("hda: timeout waiting for DMA"))
    assert found is not None and found.name == "io_error"


def kernel_templates(path: Path) -> set[str]:
    miner = TemplateMiner()
    out: set[str] = set()
    with path.open("rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            _, sep, message = line.partition(" kernel: ")
            if sep:
                out.add(miner.add(message).template)
    return out


def test_nothing_in_a_workstations_kernel_log_is_a_primitive() -> None:
    """elemoine_kern.log: suspend/resume, three boots, i915 WARNING, nouveau, usb -71,
    kvm, docker: no fault at all (its labels), so no primitive may fire."""
    path = REAL_LOGS / "elemoine_kern.log"
    if not path.is_file():
        pytest.skip("real logs not present")
    hits = {
        t: p.name
        for t in kernel_templates(path)
        if (p := classify(t, service="kernel")) is not None
    }
    assert hits == {}
