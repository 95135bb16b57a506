"""Netfilter packet log lines (iptables/nftables LOG, ufw) mine to one template per log
prefix, which is the firewall's action and chain. Real lines of plemma_syslog.log
(read as the kernel's, so their uptime stamp is already an attribute) and the
kernel's nf_log format for the other shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from logvigil.core.events import LogEvent
from logvigil.ingest.formats import input_options, read_events
from logvigil.ingest.templates import TemplateMiner

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real_logs"
MAC = "MAC=56:00:03:85:82:df:fe:00:03:85:82:df:08:00"

UFW_BLOCK = [
    # TCP to the host, DF, CWR ECE SYN
    f"[UFW BLOCK] IN=ens3 OUT= {MAC} SRC=152.44.42.69 DST=158.247.223.84 LEN=52 TOS=0x02 "
    "PREC=0x00 TTL=110 ID=24636 DF PROTO=TCP SPT=47378 DPT=25 WINDOW=64240 RES=0x00 CWR ECE "
    "SYN URGP=0",
    # routed (OUT set), no DF, SYN only
    f"[UFW BLOCK] IN=ens3 OUT=ens3 {MAC} SRC=46.161.27.54 DST=158.247.200.34 LEN=40 TOS=0x00 "
    "PREC=0x00 TTL=241 ID=43827 PROTO=TCP SPT=55264 DPT=3665 WINDOW=1024 RES=0x00 SYN URGP=0",
    # ICMP: TYPE/CODE instead of ports
    f"[UFW BLOCK] IN=ens3 OUT=ens3 {MAC} SRC=96.126.112.220 DST=158.247.200.34 LEN=40 "
    "TOS=0x00 PREC=0x00 TTL=36 ID=38629 PROTO=ICMP TYPE=13 CODE=0",
    # UDP: LEN twice
    f"[UFW BLOCK] IN=ens3 OUT= {MAC} SRC=185.12.125.28 DST=158.247.223.84 LEN=36 TOS=0x00 "
    "PREC=0x00 TTL=14 ID=32353 DF PROTO=UDP SPT=5953 DPT=123 LEN=16",
    # GRE: a protocol number and nothing after it
    f"[UFW BLOCK] IN=ens3 OUT=ens3 {MAC} SRC=106.166.184.122 DST=158.247.200.34 LEN=578 "
    "TOS=0x00 PREC=0x00 TTL=51 ID=1730 DF PROTO=47",
    # IPv6 (the kernel's IPv6 fields)
    "[UFW BLOCK] IN=ens3 OUT= MAC=33:33:00:00:00:01:fe:00:03:85:82:df:86:dd "
    "SRC=fe80:0000:0000:0000:fc00:03ff:fe85:82df DST=ff02:0000:0000:0000:0000:0000:0000:0001 "
    "LEN=120 TC=0 HOPLIMIT=1 FLOWLBL=0 PROTO=ICMPv6 TYPE=134 CODE=0",
]


@pytest.mark.parametrize("prefix", ["[UFW BLOCK] ", "[UFW AUDIT] ", "DROP-INPUT: ", "nft in drop "])
def test_every_packet_of_one_log_prefix_is_one_template(prefix: str) -> None:
    miner = TemplateMiner()
    lines = [prefix + line.removeprefix("[UFW BLOCK] ") for line in UFW_BLOCK]
    matches = [miner.add(line) for line in lines]
    assert {m.template_id for m in matches} == {1}
    assert matches[-1].template == prefix + "IN=<*> OUT=<*> <*>"
    assert not any(m.changed for m in matches)


def test_each_action_and_chain_keeps_a_template_of_its_own() -> None:
    """`[UFW AUDIT]` and `[UFW BLOCK]` share four of five tokens: similar enough for the
    miner to merge two ordinary messages, but they are different rules."""
    miner = TemplateMiner()
    body = UFW_BLOCK[0].removeprefix("[UFW BLOCK] ")
    prefixes = ["[UFW BLOCK] ", "[UFW AUDIT] ", "[UFW ALLOW] ", "[UFW LIMIT BLOCK] ", ""]
    ids = [miner.add(prefix + body).template_id for prefix in prefixes]
    assert len(set(ids)) == len(prefixes)
    assert sorted(text for _, text in miner.templates()) == sorted(
        f"{p}IN=<*> OUT=<*> <*>" for p in prefixes
    )


def test_a_prefix_glued_to_in_is_its_own_token() -> None:
    """iptables prints `%sIN=`: `--log-prefix DROP:` without a space gives `DROP:IN=eth0`."""
    miner = TemplateMiner()
    a = miner.add("DROP:IN=eth0 OUT= MAC=00:11 SRC=10.0.0.1 DST=10.0.0.2 LEN=60 PROTO=TCP")
    b = miner.add("IN=eth0 OUT= MAC=00:11 SRC=10.0.0.1 DST=10.0.0.2 LEN=60 PROTO=TCP")
    assert (a.template, b.template) == ("DROP: IN=<*> OUT=<*> <*>", "IN=<*> OUT=<*> <*>")


@pytest.mark.parametrize(
    "line",
    [
        # a bridge: PHYSIN before MAC
        "FWD: IN=br0 OUT=br0 PHYSIN=eth1 PHYSOUT=eth2 MAC=aa SRC=10.0.0.1 DST=10.0.0.2 LEN=60",
        # output chain: no MAC
        "FWD: IN= OUT=eth0 SRC=10.0.0.1 DST=1.1.1.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF",
        # ARP
        "FWD: IN=eth0 OUT= MAC=ff:ff ARP HTYPE=1 PTYPE=0x0800 OPCODE=1",
        # with --log-macdecode
        "FWD: IN=eth0 OUT= MACSRC=00:11:22:33:44:55 MACDST=66:77:88:99:aa:bb MACPROTO=0800 "
        "SRC=10.0.0.1 DST=10.0.0.2 LEN=60",
    ],
)
def test_every_shape_the_kernel_logs_is_a_packet(line: str) -> None:
    assert TemplateMiner().add(line).template == "FWD: IN=<*> OUT=<*> <*>"


@pytest.mark.parametrize(
    ("message", "template"),
    [
        # IN= and OUT= but no packet fields after them
        ("route IN=eth0 OUT=eth1 changed by admin", "route IN=<*> OUT=<*> changed by admin"),
        ("mapping IN=a OUT=b", "mapping IN=<*> OUT=<*>"),
        # the fields, but not in the kernel's order
        ("OUT=eth0 IN=eth1 SRC=10.0.0.1", "OUT=<*> IN=<*> SRC=<*>"),
    ],
)
def test_other_lines_with_in_and_out_keys_are_masked_as_usual(message: str, template: str) -> None:
    assert TemplateMiner().add(message).template == template


def test_a_rebuilt_miner_gives_packets_the_same_template() -> None:
    miner = TemplateMiner()
    first = miner.add(UFW_BLOCK[0])
    rebuilt = TemplateMiner(templates=miner.templates())
    again = rebuilt.match(UFW_BLOCK[2])
    assert again is not None
    assert (again.template_id, again.template) == (first.template_id, first.template)
    assert rebuilt.add(UFW_BLOCK[3]).template_id == first.template_id


def test_the_ufw_lines_of_the_real_vps_log_are_one_template() -> None:
    path = REAL / "plemma_syslog.log"
    if not path.is_file():
        pytest.skip(f"{path} not available")
    with path.open("rb") as f:
        lines = [line for line in f if b"[UFW " in line]
    assert len(lines) == 64841
    # every third line keeps every shape (TCP, UDP, ICMP, GRE, in and routed) and the time short
    events = list(read_events(lines[::3], "syslog", input_options(str(path))))
    assert all(isinstance(e, LogEvent) for e in events)
    miner = TemplateMiner()
    ids = {miner.add(e.message).template_id for e in events if isinstance(e, LogEvent)}
    assert [miner.templates()[0][1]] == ["[UFW BLOCK] IN=<*> OUT=<*> <*>"]
    assert ids == {1}
