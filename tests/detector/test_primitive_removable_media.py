"""The kernel's I/O errors on a device that holds no disk of the host's own (a virtual
floppy drive with nothing behind it, an empty optical drive, a loop device whose file
was replaced) are the `removable-media-io-errors` noise rule's: lowered to debug, which
the `io_error` primitive does not count (`Primitive.min_severity`). The same wording
about a disk still pages."""

from __future__ import annotations

import pytest
from test_primitive_support import syslog_findings

from logvigil.core.events import Severity
from logvigil.core.findings import Finding

# What a VMware or Hyper-V guest with a virtual floppy controller writes each time
# os-prober (update-grub) or `fdisk -l` probes the block devices (Ubuntu 16.04 to 22.04
# kernels: blk_update_request, print_req_error, and 5.16+'s unprefixed form), an empty
# virtual CD-ROM read at boot, and snapd's loop device after its image was refreshed.
PHANTOM_DEVICES = """\
Mar  4 10:00:01 vm1 kernel: [  812.120337] blk_update_request: I/O error, dev fd0, sector 0
Mar  4 10:00:01 vm1 kernel: [  812.120412] Buffer I/O error on dev fd0, logical block 0, async page read
Mar  4 10:00:02 vm1 kernel: [  813.410011] print_req_error: I/O error, dev fd0, sector 0
Mar  4 10:00:02 vm1 kernel: [  813.510021] I/O error, dev fd0, sector 0 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 2
Mar  4 10:00:03 vm1 kernel: [  814.002345] end_request: I/O error, dev fd0, sector 0
Mar  4 10:00:03 vm1 kernel: [  814.002399] Buffer I/O error on device fd0, logical block 0
Mar  4 10:00:04 vm1 kernel: [    8.100000] sr 1:0:0:0: [sr0] tag#0 Sense Key : Medium Error [current]
Mar  4 10:00:04 vm1 kernel: [    8.100001] blk_update_request: I/O error, dev sr0, sector 0 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 0
Mar  4 10:00:04 vm1 kernel: [    8.100002] Buffer I/O error on dev sr0, logical block 0, async page read
Mar  4 10:00:05 vm1 kernel: [  902.551234] blk_update_request: I/O error, dev loop3, sector 0 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0
"""

# A disk failing, in the same words.
FAILING_DISK = """\
Mar  4 10:00:06 vm1 kernel: [  903.000000] blk_update_request: I/O error, dev sda, sector 123456 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0
Mar  4 10:00:06 vm1 kernel: [  903.000100] Buffer I/O error on dev sda1, logical block 15432, lost async page write
"""


def _io_errors(text: str) -> list[Finding]:
    return [f for f in syslog_findings(text, year=2024) if f.kind == "io_error"]


def test_io_errors_of_an_empty_floppy_or_cd_drive_or_a_loop_device_page_nothing() -> None:
    assert _io_errors(PHANTOM_DEVICES) == []


def test_a_disk_failing_among_them_still_pages() -> None:
    (finding,) = _io_errors(PHANTOM_DEVICES + FAILING_DISK)
    assert (finding.service, finding.host, finding.severity) == ("kernel", "vm1", Severity.CRITICAL)


@pytest.mark.parametrize("device", ["sda", "nvme0n1", "vdb", "mmcblk0", "hda", "xvda", "md0"])
def test_every_other_device_pages(device: str) -> None:
    line = f"Mar  4 10:00:06 vm1 kernel: [  9.1] blk_update_request: I/O error, dev {device}, sector 8\n"
    assert len(_io_errors(line)) == 1
