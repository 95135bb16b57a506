"""A network wait-online unit that timed out at boot is the `network-wait-online-timeouts`
noise rule's: lowered to debug, which the `unit_failed` primitive does not count
(`Primitive.min_severity`). Any other unit that fails still pages."""

from __future__ import annotations

from test_primitive_support import syslog_findings

from logvigil.core.findings import Finding

# An OpenBMC machine whose eth0 was still configuring when systemd-networkd-wait-online's
# two minutes ran out (openbmc/phosphor-networkd issue 39), and a NixOS host whose
# NetworkManager-wait-online (`nm-online -s -q`) gave up (NixOS/nixpkgs issue 180175).
WAIT_ONLINE = """\
May 20 19:20:12 rainier systemd[1]: Starting Wait for Network to be Configured...
May 20 19:22:12 rainier systemd-networkd-wait-online[719]: Event loop failed: Connection timed out
May 20 19:22:12 rainier systemd[1]: systemd-networkd-wait-online.service: Main process exited, code=exited, status=1/FAILURE
May 20 19:22:12 rainier systemd[1]: systemd-networkd-wait-online.service: Failed with result 'exit-code'.
May 20 19:22:12 rainier systemd[1]: Failed to start Wait for Network to be Configured.
Jul  5 10:17:52 nixos systemd[1]: Starting Network Manager Wait Online...
Jul  5 10:18:52 nixos systemd[1]: NetworkManager-wait-online.service: Main process exited, code=exited, status=1/FAILURE
Jul  5 10:18:52 nixos systemd[1]: NetworkManager-wait-online.service: Failed with result 'exit-code'.
"""

# plemma_syslog.log: cyrus-imapd failing at boot, a unit that must page.
CYRUS = """\
Jul  5 10:19:42 nixos systemd[1]: cyrus-imapd.service: Main process exited, code=exited, status=78/CONFIG
Jul  5 10:19:42 nixos systemd[1]: cyrus-imapd.service: Failed with result 'exit-code'.
"""


def _findings(text: str) -> list[Finding]:
    return syslog_findings(text, year=2021)


def test_a_wait_online_unit_that_timed_out_pages_nothing() -> None:
    assert [f for f in _findings(WAIT_ONLINE) if f.kind != "new_template"] == []


def test_another_unit_failing_after_it_still_pages() -> None:
    found = [f for f in _findings(WAIT_ONLINE + CYRUS) if f.kind == "unit_failed"]
    assert [(f.host, f.service) for f in found] == [("nixos", "cyrus-imapd")]
