"""Miner rules justified by how programs write, each on real lines: the kernel's padded
uptime, and similarity counted over the positions that carry words.

The real files of ../shared/data/real_logs are read whole where present (skipped in a
clone without them): no catch-all template mixes programs, read as syslog or raw."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from logvigil.core.events import LogEvent
from logvigil.ingest.inputs import InputReader
from logvigil.ingest.templates import TemplateMiner
from logvigil.ingest.templates.masking import WILDCARD

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real_logs"

# elemoine_kern.log, read raw (the whole line is the message): one message of the
# e1000e driver at 2.5 s and at 34,798 s of uptime. printk writes "[%5lu.%06lu]".
E1000E = [
    "Jan  4 18:44:33 elemoine kernel: [    2.525973] e1000e: eth0 NIC Link is Down",
    "Jan  3 21:23:51 elemoine kernel: [34798.540185] e1000e: eth0 NIC Link is Down",
]
# Same file: two different kernel messages of the same length at the same uptime.
# Their masked header (date, time, uptime) is equal in every line of the file.
MTRR = [
    "Jan  4 18:44:31 elemoine kernel: [    0.000000] MTRR default type: write-back",
    "Jan  4 18:44:31 elemoine kernel: [    0.000000] MTRR fixed ranges enabled:",
]


def test_one_kernel_message_is_one_template_whatever_its_uptime() -> None:
    miner = TemplateMiner()
    a, b = (miner.add(line) for line in E1000E)
    assert a.template_id == b.template_id and not b.changed
    assert a.template == "<*> <*> <*> elemoine kernel: [<*>] e1000e: eth0 NIC Link is Down"


def test_masked_fields_in_every_line_do_not_make_two_messages_alike() -> None:
    miner = TemplateMiner()
    a, b = (miner.add(line) for line in MTRR)
    # 7 of 10 tokens are equal, but 4 of those are masked fields: 3 of 6 words.
    assert a.template_id != b.template_id
    assert b.template == "<*> <*> <*> elemoine kernel: [<*>] MTRR fixed ranges enabled:"


def test_a_variable_word_still_generalises_among_masked_fields() -> None:
    # sshd (auth.log of serverlog, raw): the user name varies, the event does not.
    miner = TemplateMiner()
    lines = [
        f"Mar  6 07:1{i}:08 capstonealzheimer sshd[638{i}]: Invalid user {user} from "
        f"103.1{i}.11.7 port 4518{i}"
        for i, user in enumerate(["admin", "oracle", "test"])
    ]
    ids = {miner.add(line).template_id for line in lines}
    assert len(ids) == 1
    assert miner.templates()[0][1] == (
        "<*> <*> <*> capstonealzheimer sshd[<*>]: Invalid user <*> from <*> port <*>"
    )


def _catch_alls(path: Path, fmt: str, year: int) -> dict[str, set[str]]:
    """The templates with at most one word (the rest masked), and the programs of their
    lines, from mining `path` read as `fmt`."""
    miner = TemplateMiner()
    programs: dict[int, set[str]] = defaultdict(set)
    for event in InputReader([str(path)], fmt, year=year):
        if isinstance(event, LogEvent):
            program = event.service
            if fmt == "raw":  # "Mon DD HH:MM:SS host program[pid]: ..."
                fields = event.message.split()
                program = re.sub(r"\[.*", "", fields[4]) if len(fields) > 4 else ""
            programs[miner.add(event.message).template_id].add(program)
    found = {}
    for tid, text in miner.templates():
        tokens = text.split()[5:] if fmt == "raw" else text.split()  # raw: the header
        words = [t for t in tokens if t.replace(WILDCARD, "").strip("[]():,;.=-")]
        if len(words) <= 1 and len(tokens) >= 3:
            found[text] = programs[tid]
    return found


@pytest.mark.parametrize("fmt", ["syslog", "raw"])
@pytest.mark.parametrize(
    ("name", "year"),
    [("elemoine_kern.log", 2017), ("plemma_syslog.log", 2019), ("loghub_Linux_full.log", 2005)],
)
def test_no_catch_all_template_swallows_lines_of_different_programs(
    name: str, year: int, fmt: str
) -> None:
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (a clone without ../shared)")
    mixed = {text: progs for text, progs in _catch_alls(path, fmt, year).items() if len(progs) > 1}
    assert not mixed


def test_a_store_mined_before_keeps_its_ids_and_its_templates_answer_as_before() -> None:
    # A store of an earlier version holds the catch-all the old similarity made, under
    # id 7. Nothing is renumbered or split: a line that fits it still gets id 7, and a
    # new template continues after the highest id.
    old = "<*> <*> <*> elemoine kernel: [<*>] <*> <*> <*> <*>"
    miner = TemplateMiner(
        templates=[(3, "<*> <*> <*> elemoine kernel: [<*>] e1000e: <*>"), (7, old)]
    )
    fits = miner.add(MTRR[0])
    assert (fits.template_id, fits.template, fits.created) == (7, old, False)
    new = miner.add(E1000E[0])
    assert new.created and new.template_id == 8
