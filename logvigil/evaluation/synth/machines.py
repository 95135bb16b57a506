"""The homelab's machines as their own software tells their life: shutdown, boot, suspend, resume.

Each host runs a real distribution, and what it logs when it stops or starts is
that distribution's wording (`OSES`):

- `db-01`, `web-01`: Debian 12 KVM guests (kernel 6.1.0-18-amd64, systemd 252,
  which names units as "ssh.service - OpenBSD Secure Shell server");
- `nas-01`: Ubuntu 22.04 on bare metal (kernel 5.15, systemd 249), with the
  daemons an Ubuntu server runs only at boot: cloud-init, multipathd, udisksd
  and apport; it can suspend to RAM (ACPI S3);
- `pi-01`: Raspbian 10 on a Raspberry Pi 4 (kernel 5.10 armv7l, systemd 241).

A clean shutdown is systemd's sequence (logind's "System is rebooting.", units
stopping with their daemons' last lines, "Reached target ... Shutdown",
"Shutting down.", systemd-shutdown, journald's "Journal stopped"); a boot is the
kernel's banner and early lines, systemd's first line ("systemd 252.22-1~deb12u1
running in system mode ..."), journald starting and the units starting; after a
crash the root file system replays its journal ("EXT4-fs (sda2): recovery
complete") and journald finds its file "corrupted or uncleanly shut down". A
suspend is logind, systemd-sleep and the kernel's PM lines; the kernel lines
written once user space is frozen reach the journal only after the resume, so
they carry the resume's time (as on a real journal).

Every function returns the lines of one moment, all within a minute of `t0`
(the generator writes a minute at a time).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from logvigil.evaluation.synth.daemons import (
    Boot,
    Unit,
    after,
    apport_start,
    cloud_init,
    gitea_start,
    gitea_stop,
    multipathd_start,
    multipathd_stop,
    nfs_start,
    nfs_stop,
    pihole_start,
    postgres_start,
    postgres_stop,
    redis_start,
    redis_stop,
    sshd_start,
    sshd_stop,
    udisksd_start,
    udisksd_stop,
)
from logvigil.evaluation.synth.homelab import Acting, Line

#: A boot is over (units started, the host's services logging) this long after the kernel's
#: first line; a host's ordinary lines resume then.
BOOT_READY = timedelta(seconds=16)


@dataclass(frozen=True, slots=True)
class OS:
    """How one host's distribution words its life cycle."""

    kernel: tuple[str, ...]  # the first kernel lines, banner included
    disk: tuple[str, ...]  # the kernel's lines about the disk before mounting root
    root: str  # the root file system's device, as ext4 names it
    #: What this kernel's ext4 adds to "mounted filesystem with ordered data mode".
    ext4_opts: str
    systemd: str  # PID 1's first line
    #: systemd >= 251 names a unit with its description: "Started ssh.service - OpenBSD ...".
    combined: bool
    #: "Deactivated successfully." (systemd >= 247) or "Succeeded." (older).
    deactivated: str
    #: Descriptions of shutdown.target, final.target and reboot.target in this systemd.
    targets: tuple[str, str, str]
    machine_id: str
    virtualization: str | None
    units: tuple[Unit, ...]


# --------------------------------------------------------------------------- distributions

_SSH = Unit("ssh.service", "OpenBSD Secure Shell server", sshd_start, sshd_stop)
_CRON = Unit("cron.service", "Regular background program processing daemon")
_DEBIAN_KERNEL = (
    "Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) "
    "12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 "
    "(2024-02-01)"
)
_DEBIAN_SYSTEMD = (
    "systemd 252.22-1~deb12u1 running in system mode (+PAM +AUDIT +SELINUX +APPARMOR +IMA +SMACK "
    "+SECCOMP +GCRYPT -GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN +IPTC +KMOD "
    "+LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY +P11KIT +QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB "
    "+ZSTD -BPF_FRAMEWORK -XKBCOMMON +UTMP +SYSVINIT default-hierarchy=unified)"
)


def _debian_vm(disk: tuple[str, ...], root: str, machine_id: str, units: tuple[Unit, ...]) -> OS:
    return OS(
        kernel=(
            _DEBIAN_KERNEL,
            f"Command line: BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/{root} ro quiet",
            "DMI: QEMU Standard PC (i440FX + PIIX, 1996), BIOS "
            "rel-1.16.2-0-gea1b7a073390-prebuilt.qemu.org 04/01/2014",
            "Hypervisor detected: KVM",
            "RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed attacks, "
            "data leaks possible!",
        ),
        disk=disk,
        root=root,
        ext4_opts=" Quota mode: none.",
        systemd=_DEBIAN_SYSTEMD,
        combined=True,
        deactivated="Deactivated successfully.",
        targets=("System Shutdown", "Late Shutdown", "System Reboot"),
        machine_id=machine_id,
        virtualization="kvm",
        units=units,
    )


OSES: dict[str, OS] = {
    "db-01": _debian_vm(
        (
            "sd 2:0:0:0: [sda] 209715200 512-byte logical blocks: (107 GB/100 GiB)",
            "sd 2:0:0:0: [sda] Write cache: enabled, read cache: enabled, doesn't support DPO "
            "or FUA",
            " sda: sda1 sda2 sda3",
            "sd 2:0:0:0: [sda] Attached SCSI disk",
        ),
        "sda2",
        "4f9c1e07a2b84d5e9c3f6a1b2d8e7c40",
        (
            Unit(
                "postgresql@15-main.service",
                "PostgreSQL Cluster 15-main",
                postgres_start,
                postgres_stop,
            ),
            Unit("redis-server.service", "Advanced key-value store", redis_start, redis_stop),
            _SSH,
            _CRON,
        ),
    ),
    "web-01": _debian_vm(
        (
            "virtio_blk virtio2: [vda] 83886080 512-byte logical blocks (42.9 GB/40.0 GiB)",
            " vda: vda1 vda2 < vda5 >",
        ),
        "vda1",
        "9a2e5b7c1d3f4e6a8b0c2d4e6f8a1b3c",
        (
            Unit("php8.2-fpm.service", "The PHP 8.2 FastCGI Process Manager"),
            Unit("nginx.service", "A high performance web server and a reverse proxy server"),
            Unit("docker.service", "Docker Application Container Engine", gitea_start, gitea_stop),
            _SSH,
            _CRON,
        ),
    ),
    "nas-01": OS(
        kernel=(
            "Linux version 5.15.0-97-generic (buildd@lcy02-amd64-102) (gcc (Ubuntu "
            "11.4.0-1ubuntu1~22.04) 11.4.0, GNU ld (GNU Binutils for Ubuntu) 2.38) #107-Ubuntu "
            "SMP Wed Feb 7 13:26:48 UTC 2024 (Ubuntu 5.15.0-97.107-generic 5.15.136)",
            "Command line: BOOT_IMAGE=/vmlinuz-5.15.0-97-generic "
            "root=/dev/mapper/ubuntu--vg-ubuntu--lv ro",
            "DMI: ASRock J4125-ITX/J4125-ITX, BIOS P1.60 01/17/2020",
        ),
        disk=(
            "ata1: SATA link up 6.0 Gbps (SStatus 133 SControl 300)",
            "sd 0:0:0:0: [sda] 7814037168 512-byte logical blocks: (4.00 TB/3.64 TiB)",
            "sd 0:0:0:0: [sda] Attached SCSI disk",
        ),
        root="dm-0",
        ext4_opts=" Opts: (null). Quota mode: none.",
        systemd=(
            "systemd 249.11-0ubuntu3.12 running in system mode (+PAM +AUDIT +SELINUX +APPARMOR "
            "+IMA +SMACK +SECCOMP +GCRYPT +GNUTLS +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 "
            "+IDN2 -IDN +IPTC +KMOD +LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY -P11KIT -QRENCODE "
            "+BZIP2 +LZ4 +XZ +ZLIB +ZSTD -XKBCOMMON +UTMP +SYSVINIT default-hierarchy=unified)"
        ),
        combined=False,
        deactivated="Deactivated successfully.",
        targets=("System Shutdown", "Late Shutdown", "System Reboot"),
        machine_id="c3d8a91f6e2b4a7d85f0e1b2c3d4a5f6",
        virtualization=None,
        units=(
            Unit(
                "multipathd.service",
                "Device-Mapper Multipath Device Controller",
                multipathd_start,
                multipathd_stop,
            ),
            Unit("cloud-init-local.service", "Initial cloud-init job (pre-networking)", cloud_init),
            Unit("udisks2.service", "Disk Manager", udisksd_start, udisksd_stop),
            Unit("apport.service", "LSB: automatic crash report generation", apport_start),
            Unit("nfs-server.service", "NFS server and services", nfs_start, nfs_stop),
            _SSH,
            _CRON,
        ),
    ),
    "pi-01": OS(
        kernel=(
            "Booting Linux on physical CPU 0x0",
            "Linux version 5.10.103-v7l+ (dom@buildbot) (arm-linux-gnueabihf-gcc-8 "
            "(Ubuntu/Linaro 8.4.0-3ubuntu1) 8.4.0, GNU ld (GNU Binutils for Ubuntu) 2.34) #1529 "
            "SMP Tue Mar 8 12:24:00 GMT 2022",
            "CPU: ARMv7 Processor [410fd083] revision 3 (ARMv7), cr=30c5383d",
            "OF: fdt: Machine model: Raspberry Pi 4 Model B Rev 1.4",
        ),
        disk=(
            "mmc0: new ultra high speed DDR50 SDHC card at address aaaa",
            "mmcblk0: mmc0:aaaa SC32G 29.7 GiB",
            " mmcblk0: p1 p2",
        ),
        root="mmcblk0p2",
        ext4_opts=" Opts: (null)",
        systemd=(
            "systemd 241 running in system mode. (+PAM +AUDIT +SELINUX +IMA +APPARMOR +SMACK "
            "+SYSVINIT +UTMP +LIBCRYPTSETUP +GCRYPT +GNUTLS +ACL +XZ +LZ4 +SECCOMP +BLKID "
            "+ELFUTILS +KMOD -IDN2 +IDN -PCRE2 default-hierarchy=hybrid)"
        ),
        combined=False,
        deactivated="Succeeded.",
        targets=("Shutdown", "Final Step", "Reboot"),
        machine_id="7e1b0c9d2a3f4b5c6d7e8f9a0b1c2d3e",
        virtualization=None,
        units=(Unit("pihole-FTL.service", "LSB: pihole-FTL daemon", pihole_start), _SSH, _CRON),
    ),
}


def systemd_line(
    t: datetime, host: str, message: str, unit: str | None = None, severity: str = "info"
) -> Line:
    """A line of systemd (PID 1), about `unit` when given (journald's `UNIT` field)."""
    return Line(t, host, "systemd", severity, message, (("UNIT", unit),) if unit else ())


def unit_says(t: datetime, host: str, verb: str, unit: str, description: str) -> Line:
    """systemd's "Starting X...", "Started X.", "Reached target X." ... in `host`'s wording:
    systemd >= 251 names the unit before its description ("ssh.service - OpenBSD ...")."""
    name = f"{unit} - {description}" if OSES[host].combined else description
    return systemd_line(t, host, f"{verb} {name}{'...' if verb.endswith('ing') else '.'}", unit)


# --------------------------------------------------------------------------- life cycle


def shutdown_lines(rng: random.Random, t0: datetime, host: str) -> list[Line]:
    """A clean reboot from `t0`: logind, the units stopping, systemd's targets, journald's end."""
    distro = OSES[host]
    out = [
        Line(t0, host, "systemd-logind", "info", "The system will reboot now!"),
        Line(after(t0, 0.05), host, "systemd-logind", "info", "System is rebooting."),
        unit_says(after(t0, 0.2), host, "Stopped target", "multi-user.target", "Multi-User System"),
    ]
    boot = Boot(t0, True)
    for i, unit in enumerate(distro.units):
        at = after(t0, 0.3 + 0.01 * i)
        out.append(unit_says(at, host, "Stopping", unit.name, unit.description))
        if unit.stop is not None:
            out.extend(unit.stop(rng, after(at, 0.05), host, boot))
        done = after(t0, 1.2 + 0.02 * i + rng.random() * 0.5)
        out.append(systemd_line(done, host, f"{unit.name}: {distro.deactivated}", unit.name))
        out.append(unit_says(after(done, 0.001), host, "Stopped", unit.name, unit.description))
    shutdown, final, reboot = distro.targets
    for i, (verb, unit, description) in enumerate(
        (
            ("Stopped target", "network.target", "Network"),
            ("Stopped target", "local-fs.target", "Local File Systems"),
            ("Reached target", "shutdown.target", shutdown),
            ("Reached target", "final.target", final),
            ("", "systemd-reboot.service", ""),
            ("Finished", "systemd-reboot.service", "System Reboot"),
            ("Reached target", "reboot.target", reboot),
        )
    ):
        at = after(t0, 2.5 + 0.05 * i)
        if verb:
            out.append(unit_says(at, host, verb, unit, description))
        else:
            out.append(systemd_line(at, host, f"{unit}: {distro.deactivated}", unit))
    out += [
        systemd_line(after(t0, 2.9), host, "Shutting down."),
        Line(
            after(t0, 3.0),
            host,
            "systemd-shutdown",
            "info",
            "Syncing filesystems and block devices.",
        ),
        Line(
            after(t0, 3.2),
            host,
            "systemd-shutdown",
            "info",
            "Sending SIGTERM to remaining processes...",
        ),
        Line(
            after(t0, 3.25),
            host,
            "systemd-journald",
            "info",
            "Received SIGTERM from PID 1 (systemd-shutdown).",
        ),
        Line(after(t0, 3.3), host, "systemd-journald", "info", "Journal stopped"),
    ]
    return out


def boot_lines(rng: random.Random, t0: datetime, host: str, boot: Boot) -> list[Line]:
    """A boot at `t0`. After an unclean stop (`boot.clean` false) the root file system replays
    its journal and journald finds its file uncleanly shut down."""
    distro = OSES[host]
    out: list[Line] = []

    def kernel(s: float, msg: str, severity: str = "info") -> None:
        out.append(Line(after(t0, s), host, "kernel", severity, msg))

    def journald(s: float, msg: str, severity: str = "info") -> None:
        out.append(Line(after(t0, s), host, "systemd-journald", severity, msg))

    for i, msg in enumerate(distro.kernel):
        kernel(0.001 * i, msg, "warning" if "WARNING" in msg else "info")
    for i, msg in enumerate(distro.disk):
        kernel(1.1 + 0.01 * i, msg, "notice" if "logical blocks" in msg else "info")
    fs = f"EXT4-fs ({distro.root}): "
    if not boot.clean:
        kernel(1.6, fs + "INFO: recovery required on readonly filesystem")
        kernel(1.601, fs + "write access will be enabled during recovery")
        kernel(1.9, fs + "orphan cleanup on readonly fs")
        kernel(1.95, fs + "recovery complete")
    kernel(2.0, fs + "mounted filesystem with ordered data mode." + distro.ext4_opts)
    first = [distro.systemd]
    if distro.virtualization:
        first.append(f"Detected virtualization {distro.virtualization}.")
    first.append("Detected architecture " + ("arm." if host == "pi-01" else "x86-64."))
    first.append(f"Hostname set to <{host}>.")
    for i, msg in enumerate(first):
        out.append(systemd_line(after(t0, 2.4 + 0.01 * i), host, msg))
    journal = f"/var/log/journal/{distro.machine_id}"
    journald(2.8, "Journal started")
    journald(
        2.801,
        f"Runtime Journal (/run/log/journal/{distro.machine_id}) is 8.0M, max 78.4M, 70.4M free.",
    )
    kernel(2.9, fs + "re-mounted." + distro.ext4_opts)
    if not boot.clean:
        journald(
            3.0,
            f"File {journal}/system.journal corrupted or uncleanly shut down, renaming and "
            "replacing.",
            "warning",
        )
    journald(
        3.1,
        f"Time spent on flushing to {journal} is {rng.uniform(5, 40):.3f}ms for "
        f"{rng.randint(600, 1100)} entries.",
    )
    for i, unit in enumerate(distro.units):
        at = after(t0, 5.0 + 0.8 * i)
        out.append(unit_says(at, host, "Starting", unit.name, unit.description))
        if unit.start is not None:
            out.extend(unit.start(rng, after(at, 0.1), host, boot))
        out.append(unit_says(after(at, 0.7), host, "Started", unit.name, unit.description))
    ready = 5.0 + 0.8 * len(distro.units)
    out.append(
        unit_says(
            after(t0, ready), host, "Reached target", "multi-user.target", "Multi-User System"
        )
    )
    kernel_s, user_s = 2.1 + rng.random(), ready - 2.0
    out.append(
        systemd_line(
            after(t0, ready + 0.01),
            host,
            f"Startup finished in {kernel_s:.3f}s (kernel) + {user_s:.3f}s (userspace) = "
            f"{kernel_s + user_s:.3f}s.",
        )
    )
    return out


def suspend_lines(rng: random.Random, t0: datetime, host: str) -> list[Line]:
    """The lines written at `t0` when `host` suspends to RAM (until user space is frozen)."""
    return [
        Line(t0, host, "systemd-logind", "info", "The system will suspend now!"),
        unit_says(after(t0, 0.05), host, "Reached target", "sleep.target", "Sleep"),
        unit_says(after(t0, 0.06), host, "Starting", "systemd-suspend.service", "System Suspend"),
        Line(after(t0, 0.1), host, "systemd-sleep", "info", "Suspending system..."),
        Line(after(t0, 0.12), host, "kernel", "info", "PM: suspend entry (deep)"),
        Line(
            after(t0, 0.13),
            host,
            "kernel",
            "info",
            f"Filesystems sync: 0.0{rng.randint(10, 60)} seconds",
        ),
    ]


#: What the kernel logs between freezing user space and thawing it (a 4-core x86 with a SATA disk).
_SLEEP_AND_WAKE = (
    "Freezing user space processes ... (elapsed 0.002 seconds) done.",
    "OOM killer disabled.",
    "Freezing remaining freezable tasks ... (elapsed 0.001 seconds) done.",
    "printk: Suspending console(s) (use no_console_suspend to debug)",
    "sd 0:0:0:0: [sda] Synchronizing SCSI cache",
    "sd 0:0:0:0: [sda] Stopping disk",
    "ACPI: PM: Preparing to enter system sleep state S3",
    "ACPI: PM: Saving platform NVS memory",
    "Disabling non-boot CPUs ...",
    "smpboot: CPU 1 is now offline",
    "smpboot: CPU 2 is now offline",
    "smpboot: CPU 3 is now offline",
    "ACPI: PM: Low-level resume complete",
    "ACPI: PM: Restoring platform NVS memory",
    "Enabling non-boot CPUs ...",
    "x86: Booting SMP configuration:",
    "smpboot: Booting Node 0 Processor 1 APIC 0x2",
    "CPU1 is up",
    "smpboot: Booting Node 0 Processor 2 APIC 0x4",
    "CPU2 is up",
    "smpboot: Booting Node 0 Processor 3 APIC 0x6",
    "CPU3 is up",
    "ACPI: PM: Waking up from system sleep state S3",
    "sd 0:0:0:0: [sda] Starting disk",
    "ata1: SATA link up 6.0 Gbps (SStatus 133 SControl 300)",
    "ata1.00: configured for UDMA/133",
    "OOM killer enabled.",
    "Restarting tasks ... done.",
    "PM: suspend exit",
)


def resume_lines(rng: random.Random, t0: datetime, host: str) -> list[Line]:
    """A resume at `t0`: the kernel's lines held back while user space was frozen, then
    systemd-sleep's and systemd's, and the network link coming back."""
    distro = OSES[host]
    out = [
        Line(after(t0, 0.0001 * i), host, "kernel", "info", m)
        for i, m in enumerate(_SLEEP_AND_WAKE)
    ]
    unit = "systemd-suspend.service"
    out += [
        Line(after(t0, 0.1), host, "systemd-sleep", "info", "System resumed."),
        systemd_line(after(t0, 0.12), host, f"{unit}: {distro.deactivated}", unit),
        unit_says(after(t0, 0.13), host, "Finished", unit, "System Suspend"),
        unit_says(after(t0, 0.14), host, "Stopped target", "sleep.target", "Sleep"),
        unit_says(after(t0, 0.15), host, "Reached target", "suspend.target", "Suspend"),
        Line(after(t0, 0.16), host, "systemd-logind", "info", "Operation 'sleep' finished."),
        unit_says(after(t0, 0.17), host, "Stopped target", "suspend.target", "Suspend"),
        Line(
            after(t0, 3.4 + rng.random()),
            host,
            "kernel",
            "info",
            "r8169 0000:02:00.0 enp2s0: Link is Up - 1Gbps/Full - flow control rx/tx",
        ),
    ]
    return out


# --------------------------------------------------------------------------- fault writers


def reboot_lines(f: Acting, rng: random.Random, t: datetime, *, clean: bool) -> Iterator[Line]:
    """A reboot's lines in the minute `t`: the shutdown at `f.start` when `clean` (a crash
    writes nothing), the boot at `f.end`."""
    assert f.host is not None
    if clean and t == f.start:
        yield from shutdown_lines(rng, f.start, f.host)
    if t == f.end:
        # after a crash postgres names its last checkpoint (every 5 minutes) as last known up
        last = f.start - timedelta(minutes=f.start.minute % 5, seconds=f.start.second - 20)
        yield from boot_lines(rng, f.end, f.host, Boot(f.start if clean else last, clean))


def suspend_and_resume(f: Acting, rng: random.Random, t: datetime) -> Iterator[Line]:
    """A suspend's lines in the minute `t`: suspending at `f.start`, resuming at `f.end`."""
    assert f.host is not None
    if t == f.start:
        yield from suspend_lines(rng, f.start, f.host)
    elif t == f.end:
        yield from resume_lines(rng, f.end, f.host)
