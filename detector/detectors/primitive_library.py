"""The built-in primitives: catastrophic log patterns, in their writers' own words.

A primitive is a regular expression matched (case-insensitively, `search`)
against the *template text* of a row (variables already masked to `<*>`), so
a pattern must not rely on a number, a path or a quoted id being present. Each
matches the wording of the program that really writes it, and a primitive whose
wording belongs to one producer is scoped to it (`services`): the kernel's
crash family (panic, Oops, `BUG:`, lockups, hung tasks, machine checks), its
file-system, block-device and network-driver errors and its segfault lines
count only on the kernel's rows, so an init script named `xfs` saying "xfs
shutdown failed" is not a file-system error. Primitives about a process (OOM
kill, disk full, a failed unit) apply to any service, since attribution moves
such a line to its victim or unit.

`PRIMITIVES` is the built-in library, in priority order: the first primitive
that matches a template wins (`kernel_panic` before `oom_kill`, because "Kernel
panic - not syncing: Out of memory" is a panic). `classify` finds a text's.
The detector that fires them is `primitive.PrimitiveDetector`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from detector.detectors.lifecycle import KERNEL
from graph.attribution import FAULT_WORDS
from logvigil.core.events import Severity

#: Fields a primitive's summary may use.
SUMMARY_FIELDS = ("service", "host", "template_id", "count", "template", "label")

DEFAULT_SUMMARY = "{service} on {host}: {label} (template #{template_id})"


@dataclass(frozen=True, slots=True)
class Primitive:
    """One catastrophic pattern.

    `name` is the finding's `kind`; `regex` is searched in template text,
    ignoring case; `label` is the few words a summary uses; `summary` is a
    `str.format` string over `SUMMARY_FIELDS`. `needles` are lowercase
    substrings of which every match of `regex` holds at least one: the regex
    runs only on a text that holds one (Python's `re` is slow on alternations,
    `in` is not). Empty: the regex runs on every text. `services` is the producer
    scope: the services (as attributed) whose lines may be this primitive, None for
    any: "xfs shutdown failed" from the X font server's init script is not the
    kernel's XFS, and only the kernel writes "I/O error, dev sda". `min_severity`,
    when set, counts only the template's lines of that severity or worse: where what
    makes a line catastrophic is a value the miner masks and the severity rules read
    (`logvigil.ingest.severity`), as ZFS's `vdev_state=UNAVAIL` among `ONLINE` lines
    of one template.
    """

    name: str
    regex: re.Pattern[str]
    severity: Severity
    label: str
    summary: str = DEFAULT_SUMMARY
    needles: tuple[str, ...] = ()
    services: frozenset[str] | None = None
    min_severity: Severity | None = None

    def scoped_out(self, service: str | None) -> bool:
        """Whether a line of `service` cannot be this primitive because another program
        writes its wording (None: the producer is unknown, nothing is ruled out)."""
        return self.services is not None and service is not None and service not in self.services


def primitive(
    name: str,
    pattern: str,
    severity: Severity,
    label: str,
    *,
    needles: tuple[str, ...] = (),
    summary: str = DEFAULT_SUMMARY,
    services: frozenset[str] | None = None,
    min_severity: Severity | None = None,
) -> Primitive:
    """Build a `Primitive`, compiling `pattern` case-insensitively.

    Raises re.error for an invalid pattern.
    """
    return Primitive(
        name,
        re.compile(pattern, re.IGNORECASE),
        severity,
        label,
        summary,
        tuple(n.lower() for n in needles),
        frozenset(services) if services is not None else None,
        min_severity,
    )


_CRIT, _ERR = Severity.CRITICAL, Severity.ERROR
#: The kernel under the identifiers syslog daemons and journald give it.
_K = KERNEL

#: The built-in library, in priority order (first match wins).
PRIMITIVES: tuple[Primitive, ...] = (
    # -- the crash family: the kernel's own words (kernel/panic.c, arch/*/mm/fault.c,
    # kernel/watchdog*.c, kernel/hung_task.c, arch/x86/kernel/cpu/mce) -----------------
    primitive(
        "kernel_panic",
        r"\bkernel panic\b|\bnot syncing\b",
        _CRIT,
        "kernel panic",
        needles=("panic", "not syncing"),
        services=_K,
    ),
    primitive(
        # ... and the NMI watchdog of 2.6 kernels (arch/x86_64/kernel/nmi.c, die_nmi: "NMI
        # Watchdog detected LOCKUP on CPU 1, registers:"; i386: "... on CPU1").
        "cpu_lockup",
        r"\bsoft lockup\b|\bhard lockup\b|\bdetected stalls? on cpus\b|\bself-detected stall\b"
        r"|\bnmi watchdog detected lockup on cpu",
        _CRIT,
        "CPU lockup",
        needles=("lockup", "stall"),
        services=_K,
    ),
    primitive(
        "kernel_oops",
        r"\boops: |\bBUG: unable to handle\b|\bBUG: kernel NULL pointer\b|\bkernel BUG at\b"
        r"|\bunable to handle kernel (?:paging request|NULL pointer)"
        r"|^(?:\[[^\]]*\]\s*)?general protection fault: \S+ \[#",
        _CRIT,
        "kernel oops",
        needles=("oops", "bug", "unable to handle", "general protection fault"),
        services=_K,
    ),
    primitive(
        "hung_task",
        r"\btask \S+ blocked for more than \S+ seconds",
        _ERR,
        "hung task",
        needles=("blocked for more than",),
        services=_K,
    ),
    primitive(
        # A hardware error the CPU or the memory controller could not correct: x86's
        # machine-check exception (arch/x86/kernel/cpu/mce/core.c, mce_panic and
        # __print_mce: "mce: [Hardware Error]: CPU 0: Machine Check Exception: 5 Bank 4:
        # b200000000070f0f"), a poisoned page in use ("mce: Uncorrected hardware memory
        # error in user-access at 2f6b8d400", kill_me_maybe; mm/memory-failure.c's
        # "Memory failure: 0x2f6b8d: recovery action for dirty LRU page: Recovered"),
        # AMD's decoder (drivers/edac/mce_amd.c: "[Hardware Error]: Uncorrected, software
        # restartable error."), EDAC's uncorrected memory errors (drivers/edac/edac_mc.c:
        # "EDAC MC0: 1 UE memory read error on ...", kernels before 3.x "EDAC MC0: UE page
        # 0x0, ..."). Not a corrected error (EDAC's "CE", AMD's "Corrected error, no
        # action required."), nor "mce: [Hardware Error]: Machine check events logged",
        # mce_notify_irq's rate-limited note of any event logged, a corrected one too
        # (a CPU's cache corrects its own errors every day on many machines), nor the
        # register dump of a bank the firmware left behind at boot.
        "machine_check",
        r"\bmachine check exception\b|\buncorrected hardware memory error\b"
        r"|\bmemory failure: \S+: recovery action for\b|\[hardware error\]: uncorrected\b"
        r"|\bedac mc\S*: (?:\S+ )?ue\b",
        _ERR,
        "machine check (hardware error)",
        needles=("machine check", "uncorrected", "memory failure", "edac mc"),
        services=_K,
    ),
    # -- any producer: the victim's line (attributed to it) or the program's own --------
    primitive(
        "oom_kill",
        r"\bout of memory: kill|\binvoked oom-killer\b|\boom-kill\b|killed by the oom killer"
        r"|\bmemory cgroup out of memory\b|\boomkilled\b|\boom_reaper: reaped"
        # systemd-oomd, the userspace OOM killer of Ubuntu 22.04 and Fedora 34 on
        # (src/oom/oomd-util.c): "Killed /user.slice/.../app.scope due to memory pressure
        # for /user.slice/... being 55.71% > 50.00% for > 20s with reclaim activity",
        # "... due to swap used (...)"; then PID 1: "x.scope: systemd-oomd killed 19
        # process(es) in this unit."
        r"|^killed \S+ due to (?:memory pressure for|swap used)\b|\bsystemd-oomd killed\b"
        # earlyoom, Fedora's before systemd-oomd (kill.c, every version: "sending %s to
        # process %d uid %d \"%s\": badness %d, ..." or, from 1.7, ": oom_score %d, ...")
        r'|^sending sig(?:term|kill) to process \S+ uid \S+ ".*": (?:badness|oom_score) ',
        _CRIT,
        "OOM kill",
        needles=(
            "out of memory",
            "oom",
            "due to memory pressure for",
            "due to swap used",
            "badness",
        ),
    ),
    primitive(
        # A program that ran out of memory itself, in its runtime's words: the JVM's
        # "java.lang.OutOfMemoryError: Java heap space" (the class name: a command line
        # echoing "-XX:+HeapDumpOnOutOfMemoryError" is no error), Go's "fatal error:
        # runtime: out of memory" (runtime.throw), V8's "FATAL ERROR: Reached heap limit
        # Allocation failed - JavaScript heap out of memory" (Node.js), CPython's
        # "MemoryError" ending a traceback, Rust's "memory allocation of 1048576 bytes
        # failed" (std's alloc error hook, then abort), .NET's
        # "System.OutOfMemoryException", libstdc++'s "terminate called after throwing an
        # instance of 'std::bad_alloc'", and fork(2) failing with ENOMEM as bash and
        # Redis write it ("Can't save in background: fork: Cannot allocate memory").
        "out_of_memory",
        r"\bjava\.lang\.outofmemoryerror\b|\bruntime: out of memory\b"
        r"|\bjavascript heap out of memory\b|^memoryerror\b|^memory allocation of \S+ bytes failed"
        r"|\bsystem\.outofmemoryexception\b"
        r"|\bterminate called after throwing an instance of 'std::bad_alloc'"
        r"|\bfork: cannot allocate memory\b",
        _CRIT,
        "out of memory",
        needles=(
            "outofmemoryerror",
            "out of memory",
            "memoryerror",
            "memory allocation of",
            "outofmemoryexception",
            "bad_alloc",
            "cannot allocate memory",
        ),
    ),
    primitive(
        # ... and a thin pool out of data space, whose volumes' writes then queue or
        # fail (drivers/md/dm-thin.c: "switching pool to out-of-data-space (queue IO)
        # mode").
        "disk_full",
        r"no space left on device|\benospc\b|\b(?:disk|file ?system|partition) (?:is )?full\b"
        r"|disk quota exceeded|could not extend file|\bswitching pool to out-of-data-space\b",
        _CRIT,
        "disk full",
        needles=(
            "no space left",
            "enospc",
            "full",
            "quota exceeded",
            "could not extend file",
            "out-of-data-space",
        ),
    ),
    primitive(
        # The errno's text and name (`EROFS`, upper case as errno names are written: the
        # lower-case `erofs` is the kernel's Enhanced Read-Only File System, whose every
        # mount logs "erofs: (device loop0): mounted with root inode @ nid 36."), and
        # the kernel remounting a file system after errors. Not systemd's "Couldn't
        # write '1' to 'kernel/sysrq', ignoring: Read-only file system" (src/sysctl,
        # in a container whose /proc/sys is mounted read-only): ", ignoring: %m" is its
        # way of saying that a failed step changes nothing.
        "read_only_fs",
        r"(?<!ignoring: )read-only file ?system|remounting (?:file ?system )?read-only"
        r"|(?-i:\bEROFS\b)",
        _CRIT,
        "read-only file system",
        needles=("read-only", "erofs"),
    ),
    # -- storage and network, as the kernel's drivers write them --------------------------
    primitive(
        # ... and ext4's journal (fs/jbd2/journal.c) given up on: "Aborting journal on
        # device sda1-8." (the file system goes read-only after it); OpenZFS's pool stopped
        # (module/zfs/zio.c, zio_suspend, CE_WARN: "WARNING: Pool 'tank' has encountered
        # an uncorrectable I/O failure and has been suspended.", or, with failmode=panic,
        # "... and the failure mode property for this pool is set to panic.").
        "fs_error",
        r"\b(?:ext[234]|f2fs)-fs (?:error|critical)\b|\bbtrfs(?::)? (?:error|critical)\b"
        r"|\baborting journal on device\b|\bhas encountered an uncorrectable i/o failure\b"
        r"|\bxfs \([^)]*\): .*(?:corrupt|shut(?:ting)? ?down|metadata i/o error"
        r"|log i/o error|internal error)"
        r'|\bfilesystem "[^"]*": .*(?:corruption|xfs internal error|shutting down filesystem)',
        _CRIT,
        "file system error",
        needles=(
            "-fs ",
            "btrfs",
            "xfs",
            'filesystem "',
            "aborting journal",
            "uncorrectable i/o failure",
        ),
        services=_K,
    ),
    primitive(
        # ... also jbd2's "JBD2: Detected IO errors while flushing file data on sda1-8"
        # (fs/jbd2/commit.c) and SCSI's "rejecting I/O to offline device" (a disk that
        # dropped off its bus, drivers/scsi/scsi_lib.c).
        "io_error",
        r"\bi/o error\b|\binput/output error\b|\bmedium error\b|\bunrecovered read error\b"
        r"|\bdetected io errors while\b|\brejecting i/o to offline device\b"
        r"|\bblk_update_request: \w+ \w* ?error\b|\bata\S* (?:exception emask|failed command)"
        r"|\bdma_timer_expiry\b|\bdma timeout\b|\btimeout waiting for dma\b"
        r"|\bnvme\S* .*\btimeout, (?:aborting|reset controller)\b"
        r"|\bcontroller is down; will reset\b",
        _CRIT,
        "I/O error",
        needles=(
            "i/o error",
            "input/output error",
            "medium error",
            "unrecovered read error",
            "blk_update_request",
            "exception emask",
            "failed command",
            "dma",
            "timeout, ",
            "controller is down",
            "io errors",
            "offline device",
        ),
        services=_K,
        # A kernel line says no level in a plain syslog file (info); one that the noise
        # rules lowered to debug is about a device that holds no disk (an empty floppy or
        # optical drive, a loop device: `removable-media-io-errors`), not a disk failing.
        min_severity=Severity.INFO,
    ),
    primitive(
        # Netfilter's connection tracking table is full: every new connection's first
        # packet is dropped (net/netfilter/nf_conntrack_core.c: "nf_conntrack: table
        # full, dropping packet"; ip_conntrack's before 2.6.20).
        "conntrack_full",
        r"\b(?:nf|ip)_conntrack: table full, dropping packet\b",
        _CRIT,
        "connection tracking table full, dropping packets",
        needles=("table full",),
        services=_K,
    ),
    primitive(
        "nic_hang",
        r"\bdetected (?:tx|hardware) unit hang\b|\breset adapter\b"
        r"|\bnetdev watchdog\b.*\btimed out\b|\brtl_\w+_cond == \S+ \(loop:"
        r"|\btransmit timed out\b",
        _CRIT,
        "network adapter hang",
        needles=("unit hang", "reset adapter", "netdev watchdog", "_cond ==", "transmit timed out"),
        services=_K,
    ),
    primitive(
        # The GPU stopped answering and its driver reset it (or cannot): i915's error
        # capture "[drm] GPU HANG: ecode 9:1:e757fefe, in Xorg [1234]"
        # (i915_gpu_error.c), amdgpu's "ring gfx_0.0.0 timeout, signaled seq=5131,
        # emitted seq=5132" (amdgpu_job_timedout), radeon's "ring 0 stalled for more
        # than 10000msec" and "GPU lockup", NVIDIA's "NVRM: Xid (PCI:0000:06:00): 79,
        # pid=..., GPU has fallen off the bus." Not nouveau's routine "E[PIBUS]" lines.
        "gpu_hang",
        r"\bgpu hang: ecode\b|\bring \S+ timeout, signaled seq=|\bgpu has fallen off the bus\b"
        r"|\bring \S+ stalled for more than \S+|\bgpu lockup\b",
        _ERR,
        "GPU hang",
        needles=("gpu hang", "signaled seq=", "fallen off the bus", "stalled for more", "lockup"),
        services=_K,
    ),
    # -- a disk leaving its array, a disk predicting its failure, a host cooking ---------
    primitive(
        # drivers/md/raid1.c, raid10.c, raid5.c: "md/raid1:md0: Disk failure on sdb1,
        # disabling device." (2.6: "raid1: Disk failure on ..."), an array beyond repair:
        # "md/raid:md0: Cannot continue operation (2/4 failed)."; mdadm --monitor
        # (Monitor.c, at LOG_CRIT): "Fail event detected on md device /dev/md0, component
        # device /dev/sdb1", "DegradedArray event detected on md device /dev/md0" (an
        # array assembled at boot without a dead disk: the kernel logs no error then).
        "raid_degraded",
        r"\bdisk failure on \S+,? disabling device\b|\bcannot continue operation \("
        r"|\b(?:fail|failspare|degradedarray) event detected on md device\b",
        _CRIT,
        "RAID array degraded",
        needles=("disabling device", "cannot continue operation", "event detected on md device"),
        services=_K | {"mdadm"},
    ),
    primitive(
        # ZFS's event daemon (cmd/zed/zed.d/all-syslog.sh, every event at daemon.notice):
        # "eid=15 class=statechange pool='tank' vdev=sdd1 vdev_state=UNAVAIL", one
        # template whatever the state (the miner masks key=value values): the severity
        # rules raise a FAULTED, DEGRADED, UNAVAIL or REMOVED device's line to CRITICAL,
        # and only those lines count. Not `zpool offline` (OFFLINE), nor ONLINE.
        "zfs_vdev_fault",
        r"^eid=(?:<\*>|\d+) class=\S+ .*\bvdev_state=",
        _CRIT,
        "ZFS pool lost a device (faulted, degraded, removed or unavailable)",
        needles=("vdev_state=",),
        min_severity=_CRIT,
    ),
    primitive(
        # smartd (smartmontools, smartd.cpp, all at LOG_CRIT): "Device: /dev/sda [SAT],
        # FAILED SMART self-check. BACK UP DATA NOW!", "... Failed SMART usage Attribute:
        # 5 Reallocated_Sector_Ct.", "... 8 Currently unreadable (pending) sectors",
        # "... 1 Offline uncorrectable sectors", SCSI "... SMART Failure: ...", NVMe
        # "Device: /dev/nvme0, Critical Warning (0x04): Reliability". Not its routine
        # "SMART Usage Attribute: 194 Temperature_Celsius changed from 64 to 63".
        "disk_failing",
        r"\bfailed smart self-check\b|\bfailed smart usage attribute\b"
        r"|\bcurrently unreadable \(pending\) sectors\b|\boffline uncorrectable sectors\b"
        r"|\bsmart failure\b|\bcritical warning \(",
        _ERR,
        "disk failing (SMART)",
        needles=("smart", "unreadable", "uncorrectable", "critical warning"),
        services=frozenset({"smartd"}),
    ),
    primitive(
        # drivers/thermal/thermal_core.c: "thermal thermal_zone0: critical temperature
        # reached (105 C), shutting down" (since 5.12 "...: acpitz: critical temperature
        # reached, shutting down"); drivers/acpi/thermal.c before it: "Critical
        # temperature reached (99 C), shutting down.". The orderly power-off that follows
        # is a clean shutdown: nothing else says why the host went down. Not the CPU's
        # "Core temperature above threshold, cpu clock throttled" (therm_throt.c).
        "overheat",
        r"\bcritical temperature reached\b",
        _CRIT,
        "critical temperature, shut down",
        needles=("critical temperature reached",),
        services=_K,
    ),
    primitive(
        # drivers/hwmon/raspberrypi-hwmon.c (dev_crit): "hwmon hwmon1: Undervoltage
        # detected!", until "Voltage normalised"; the firmware driver before it:
        # "raspberrypi-firmware soc:firmware: Under-voltage detected! (0x00050005)". A
        # Raspberry Pi on a weak supply: SD card writes corrupt, USB disks drop.
        "undervoltage",
        r"\bunder-?voltage detected!",
        _ERR,
        "undervoltage (power supply too weak)",
        needles=("voltage detected!",),
        services=_K,
    ),
    primitive(
        # net/sunrpc/clnt.c (call_timeout, KERN_NOTICE): "nfs: server 10.0.0.5 not
        # responding, still trying" (a hard mount: every process reading it hangs until
        # "nfs: server 10.0.0.5 OK"), "..., timed out" (a soft mount: reads fail); the SMB
        # client's fs/smb/client/connect.c: "CIFS: VFS: \\10.0.0.5 has not responded in
        # 180 seconds. Reconnecting..." (older kernels: "CIFS VFS: Server 10.0.0.5 has not
        # responded in 120 seconds. Reconnecting...").
        "netfs_unresponsive",
        r"\bnfs: server \S+ not responding, (?:still trying|timed out)\b"
        r"|\bcifs:? vfs: .*\bhas not responded in \S+ seconds\b",
        _ERR,
        "network file server not responding (NFS, SMB)",
        needles=("not responding", "has not responded"),
        services=_K,
    ),
    # -- processes ------------------------------------------------------------------------
    primitive(
        # The kernel's report of a user process killed by a fault, in its exact shape
        # ("nginx[2211]: segfault at 0 ip ... sp ... error 4 in ...", "traps:
        # php-fpm[811] general protection fault ip:...": `FAULT_WORDS` after `comm[pid]`,
        # the pid masked in a template; graph.attribution gives the kernel's sources).
        # The line is attributed to the process it names (`fault_victim`), as an OOM
        # kill to its victim, so any producer: the shape, from the line's start, is
        # the kernel's alone. A program's own "Segmentation fault" is the shell's
        # `core_dump` or its runtime's `process_crashed`.
        "segfault",
        r"^(?:\[\s*[\d.<*>]+\]\s*)?(?:traps: )?.{1,15}?\[[^\]\s]*\]" + FAULT_WORDS,
        _ERR,
        "segfault",
        needles=("segfault at", " ip:"),
    ),
    primitive(
        # A process's death in the words of whatever saw it, the line's own start where a
        # runtime writes it to stderr as it dies:
        # - Upstart (init/job_process.c), a job's process killed by a fault signal:
        #   "mysql main process (1234) killed by SEGV signal" (not TERM or KILL: a stop);
        # - Go's runtime: an unrecovered panic ("panic: runtime error: invalid memory
        #   address or nil pointer dereference", printpanics) or a fatal error
        #   ("fatal error: concurrent map writes", throw); net/http's recovered
        #   "http: panic serving ..." does not start so;
        # - CPython's Py_FatalError and faulthandler: "Fatal Python error: Segmentation
        #   fault"; HotSpot's error report: "# A fatal error has been detected by the
        #   Java Runtime Environment:";
        # - glibc aborting the process: "*** stack smashing detected ***: terminated",
        #   "*** buffer overflow detected ***", malloc_printerr's "free(): invalid
        #   pointer", "malloc(): corrupted top size", "double free or corruption (out)";
        # - MySQL's and MariaDB's fatal-signal handler, "mysqld got signal 11 ;"
        #   (handle_fatal_signal), and mysqld_safe bringing the dead server back,
        #   "mysqld restarted" (a clean stop logs "mysqld from pid file ... ended"),
        #   "mysqld_safe mysqld restarted" in the error log file (its log_generic);
        # - Dovecot's processes aborting (lib/failures.c, i_panic: "imap(alice)<4711>
        #   <Kx8f>: Panic: file mail-index.c: line 123 (mail_index_x): assertion failed");
        # - Rust's main thread panicking ("thread 'main' panicked at src/main.rs:10:5:";
        #   another thread's panic may be caught, as tokio's tasks' are);
        # - php-fpm's master seeing a child die of a fault (fpm_children.c: "[pool www]
        #   child 1234 exited on signal 11 (SIGSEGV) after 12.3 seconds from start");
        # - Redis's crash report (debug.c: "Redis 7.0.15 crashed by signal: 11",
        #   "=== REDIS BUG REPORT START: Cut & paste starting from here ===");
        # - PostgreSQL's postmaster when a child died of a signal and it restarts them
        #   all (postmaster.c, LogChildExit and HandleChildCrash): "server process (PID
        #   1234) was terminated by signal 11: Segmentation fault", "all server
        #   processes terminated; reinitializing".
        "process_crashed",
        r"\b[a-z-]+ process \(\S+\) killed by (?:SEGV|ABRT|BUS|ILL|FPE|SYS|TRAP|QUIT) signal\b"
        r"|^(?:[^\s:]+: )?panic: |^fatal error: |^fatal python error: "
        r"|\ba fatal error has been detected by the java runtime environment\b"
        r"|^\*\*\* (?:stack smashing|buffer overflow|<\*> <\*>) detected \*\*\*"
        r"|^(?:free|malloc|realloc)\(\): (?:invalid|corrupted|double free|unaligned)"
        r"|^double free or corruption\b"
        r"|\b(?:mysqld|mariadbd) got signal \S+ ;|^(?:mysqld_safe )?mysqld restarted$"
        r"|\(pid \S+\) was terminated by signal\b|\ball server processes terminated; reinit"
        r"|^thread 'main' panicked at |\bexited on signal \S+ \(sig(?:segv|bus|abrt|ill|fpe)\b"
        r"|\bcrashed by signal: |^=== redis bug report start",
        _ERR,
        "crashed",
        needles=(
            "killed by",
            "panic: ",
            "fatal error: ",
            "fatal python error",
            "java runtime environment",
            " detected ***",
            "(): ",
            "double free",
            "got signal",
            "mysqld restarted",
            "was terminated by signal",
            "all server processes terminated",
            "panicked at",
            "exited on signal",
            "crashed by signal",
            "bug report start",
        ),
    ),
    primitive(
        # ... and ABRT's, RHEL's and Fedora's crash catcher (abrt-hook-ccpp.c, once a
        # crashed process's core is kept: "Saved core dump of pid %lu (%s) to %s (%llu
        # bytes)").
        "core_dump",
        r"\bdumped core\b|\(core dumped\)|\bsegmentation fault\b"
        r"|^saved core dump of pid \S+ \(",
        _ERR,
        "crashed (core dump)",
        needles=("dumped", "segmentation fault", "saved core dump"),
    ),
    primitive(
        "too_many_open_files",
        r"too many open files|\bemfile\b|\bfile-max limit\b",
        _ERR,
        "too many open files",
        needles=("too many open files", "emfile", "file-max limit"),
    ),
    primitive(
        "restart_loop",
        # systemd's, and Upstart's (init/job.c) "mysql respawning too fast, stopped"
        r"start request repeated too quickly|\brespawning too fast, stopped\b",
        _ERR,
        "restart loop, the init system gave up",
        needles=("start request repeated too quickly", "respawning too fast"),
    ),
    primitive(
        "unit_failed",
        r"\bfailed with result\b|\bentered failed state\b",
        _ERR,
        "unit failed",
        needles=("failed with result", "entered failed state"),
        # not a wait-online unit that timed out (the noise rule lowers it to debug)
        min_severity=Severity.INFO,
    ),
    primitive(
        "cert_expired",
        r"certificate (?:has )?expired|\bcert(?:ificate)?_has_expired\b"
        r"|\bcertificate is expired\b|alert certificate expired",
        _ERR,
        "certificate expired",
        needles=("expired",),
    ),
)


def classify(
    text: str, library: Sequence[Primitive] = PRIMITIVES, service: str | None = None
) -> Primitive | None:
    """Return the first primitive of `library` whose regex is found in `text` and whose
    scope admits `service` (None: a producer not known, every scope admits it), or None."""
    low = text.lower()
    for p in library:
        if p.scoped_out(service):
            continue
        if p.needles and not any(n in low for n in p.needles):
            continue
        if p.regex.search(text):
            return p
    return None
