"""bench/bench_mining.py's pure parts: grouping accuracy on hand-made groupings whose
answer is known, the fixed halves of the swapped protocol, the targets, the catch-all
classifier and the real-log tally. The tests on ../shared/data skip when it is absent."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from logvigil.core.events import LogEvent, Rejected, Severity

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
EIGHT = ["Apache", "HDFS", "HPC", "Hadoop", "HealthApp", "OpenStack", "Spark", "Zookeeper"]


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_mining", ROOT / "bench" / "bench_mining.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


# -- grouping accuracy -----------------------------------------------------


@pytest.mark.parametrize(
    ("predicted", "truth", "expected"),
    [
        ([1, 1, 2], ["a", "a", "b"], 1.0),  # exact grouping
        (["x", "x", "y"], ["a", "a", "b"], 1.0),  # the ids' names do not matter
        ([1, 2, 3], ["a", "a", "b"], 1 / 3),  # over-split: only b's group is exact
        ([1, 1, 1], ["a", "a", "b"], 0.0),  # merged: no group is exact
        ([1, 1, 2, 3], ["a", "a", "b", "b"], 0.5),  # a right, b split in two
        ([1, 2, 2, 1], ["a", "b", "b", "c"], 0.5),  # b right, a and c merged
    ],
)
def test_grouping_accuracy_on_known_groupings(
    predicted: list[object], truth: list[str], expected: float
) -> None:
    assert bench.grouping_accuracy(predicted, truth) == pytest.approx(expected)


def test_grouping_accuracy_refuses_lists_of_different_lengths() -> None:
    with pytest.raises(ValueError):
        bench.grouping_accuracy([1, 1], ["a"])


# -- the halves ------------------------------------------------------------


def test_the_halves_cover_the_eight_sets_exactly_once() -> None:
    a, b = bench.HALVES["A"], bench.HALVES["B"]
    assert set(bench.HALVES) == {"A", "B"}
    assert len(a) == len(b) == 4
    assert sorted([*a, *b]) == sorted(EIGHT)
    assert not set(a) & set(b)


def test_the_halves_are_the_alphabetical_alternation() -> None:
    ordered = sorted(EIGHT)
    assert list(bench.HALVES["A"]) == ordered[0::2]
    assert list(bench.HALVES["B"]) == ordered[1::2]


def test_half_of_and_selected() -> None:
    assert bench.half_of("HDFS") == "B" and bench.half_of("Apache") == "A"
    assert bench.half_of("Thunderbird") is None
    assert bench.selected(EIGHT, "both") == [*bench.HALF_A, *bench.HALF_B]
    assert bench.selected(EIGHT, "A") == list(bench.HALF_A)
    assert bench.selected(["Zookeeper", "Spark", "Linux"], "B") == ["Zookeeper"]


@pytest.mark.skipif(not (SHARED / "loghub_2k").is_dir(), reason="../shared/data absent")
def test_the_shared_loghub_folder_holds_the_eight_sets_of_the_halves() -> None:
    assert sorted(bench.load(SHARED / "loghub_2k")) == sorted(EIGHT)


# -- summaries and targets -------------------------------------------------


def test_summarise_averages_ga_and_divides_all_lines_by_all_seconds() -> None:
    scores = [bench.Score(100, 0.9, 1.0, 0.5), bench.Score(300, 0.7, 1.0, 0.5)]
    s = bench.summarise(scores)
    assert (s.sets, s.average, s.minimum) == (2, pytest.approx(0.8), 0.7)
    assert (s.lines_per_s, s.repeated_lines_per_s) == (200.0, 400.0)


def _summary(average: float, minimum: float, sets: int = 8) -> object:
    return bench.Summary(sets, average, minimum, 1.0, 1.0)


def test_targets_met_and_missed() -> None:
    met = bench.targets(_summary(0.95, 0.86), complete=True)
    assert [t.met for t in met] == [True, True, True]
    missed = bench.targets(_summary(0.94, 0.84), complete=True)
    assert [t.met for t in missed] == [True, False, False]  # 0.94 < 0.948 full-set


def test_the_full_set_target_needs_both_halves() -> None:
    found = bench.targets(_summary(0.95, 0.9, sets=4), complete=False)
    assert len(found) == 2 and not any("full-set" in t.what for t in found)


# -- the catch-all classifier ----------------------------------------------


@pytest.mark.parametrize(
    ("template", "wild", "catch"),
    [
        ("<*>", True, True),
        ("<*> <*> <*> <*>", True, True),
        ("[ <*>] <*> <*> <*>", True, True),  # punctuation says nothing
        ("#<*> #<*> #<*>", True, True),
        ("pcpu-alloc: [<*>] <*> <*>", False, True),  # one word, three variables
        ("pid=<*> <*> <*>", False, True),
        ("Started <*>", False, False),  # one word and one variable names its event
        ("device <*> entered promiscuous mode", False, False),
        ("[UFW BLOCK] IN=<*> OUT=<*> <*>", False, False),
    ],
)
def test_catch_all_classifier(template: str, wild: bool, catch: bool) -> None:
    assert bench.all_wildcard(template) is wild
    assert bench.catch_all(template) is catch


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("<*> link up", True),
        ("[ <*>] foo bar", True),
        ("[<*>.<*>] foo", True),
        ("eth<*>: link up", True),
        ("kvm [<*>]: unhandled rdmsr: <*>", False),
        ("[UFW BLOCK] IN=<*> OUT=<*> <*>", False),
    ],
)
def test_opens_with_wildcard(template: str, expected: bool) -> None:
    assert bench.opens_with_wildcard(template) is expected


# -- the real-log tally ----------------------------------------------------


def _event(service: str, message: str) -> LogEvent:
    return LogEvent(datetime(2024, 1, 1, tzinfo=UTC), "h", service, Severity.INFO, message)


def test_mine_events_skips_rejections_and_keys_kernel_messages_without_uptime() -> None:
    events = [
        _event("kernel", "[    4.252903] eth0: link up"),
        _event("kernel", "[12345.678901] eth0: link up"),
        Rejected("f", 3, "malformed"),
        _event("sshd", "Accepted password for root"),
    ]
    templates, tally = bench.mine_events(events)
    assert sum(tally.lines.values()) == 3
    assert set(tally.kernel) == {"eth0: link up"}
    assert set().union(*tally.programs.values()) == {"kernel", "sshd"}
    assert len(templates) >= 2


def test_real_figures_on_a_hand_made_tally() -> None:
    templates = {1: "<*> <*>", 2: "foo <*>", 3: "[ <*>] a b", 4: "bar <*> <*>"}
    tally = bench.Tally()
    tally.lines.update({1: 5, 2: 3, 3: 2, 4: 7})
    for tid, programs in {1: {"sshd", "cron"}, 2: {"kernel"}, 3: {"kernel"}, 4: {"cron"}}.items():
        tally.programs[tid] |= programs
    tally.kernel["a b"] |= {2, 3}  # one message, two templates
    tally.kernel["c"] |= {2}
    r = bench.real_figures("x.log", "syslog", templates, tally)
    assert (r.lines, r.templates) == (17, 4)
    assert (r.all_wildcard, r.all_wildcard_mixed) == (1, 1)
    assert (r.catch_alls, r.catch_all_lines, r.catch_all_programs, r.catch_alls_mixed) == (
        2,
        12,
        2,
        1,
    )
    assert (r.kernel_templates, r.kernel_wild_first, r.kernel_split) == (2, 1, 1)
    assert [c.template for c in r.top_catch_alls] == ["bar <*> <*>", "<*> <*>"]


@pytest.mark.skipif(not (SHARED / "real_logs").is_dir(), reason="../shared/data absent")
def test_real_report_reads_a_labelled_file_in_its_format(tmp_path: Path) -> None:
    source = SHARED / "real_logs"
    shutil.copy(source / "elemoine_kern.log.labels.yaml", tmp_path)
    with (source / "elemoine_kern.log").open("rb") as f:
        head = [next(f) for _ in range(300)]
    (tmp_path / "elemoine_kern.log").write_bytes(b"".join(head))
    [report] = bench.real_report(tmp_path)
    assert (report.file, report.format, report.lines) == ("elemoine_kern.log", "syslog", 300)
    assert report.kernel_templates == report.templates > 0  # a kernel-only log


# -- the whole bench on a tiny fake Loghub folder --------------------------


def _fake_set(root: Path, name: str, rows: list[tuple[str, str]]) -> None:
    folder = root / name
    folder.mkdir()
    with (folder / f"{name}_2k.log_structured_corrected.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["LineId", "Content", "EventId"])
        writer.writerows((i, content, event) for i, (content, event) in enumerate(rows, 1))


@pytest.fixture
def fake_loghub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    rows = [(f"session {i} opened for user root", "E1") for i in range(5)]
    rows += [(f"disk sda{i} failed", "E2") for i in range(5)]
    _fake_set(tmp_path, "Apache", rows)
    _fake_set(tmp_path, "HDFS", rows)
    _fake_set(tmp_path, "Linux", rows)  # outside the protocol: never measured
    monkeypatch.setenv("LOGVIGIL_LOGHUB_DIR", str(tmp_path))
    monkeypatch.setattr(bench, "peers", lambda: {"ours": bench.ours, "uncached": bench.ours})
    return tmp_path


def test_json_output_reports_both_halves_and_the_targets(
    fake_loghub: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(["--json", "--repeat", "1", "--real", str(fake_loghub / "none")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert sorted(doc["sets"]) == ["Apache", "HDFS"]
    assert doc["sets"]["HDFS"]["half"] == "B"
    assert set(doc["summary"]) == {"A", "B", "all"}
    assert doc["summary"]["all"]["ours"]["sets"] == 2
    assert len(doc["targets"]) == 3
    assert all(t["met"] == (t["value"] >= t["threshold"]) for t in doc["targets"])
    assert doc["real"].startswith("skipped")


def test_half_a_measures_only_half_a(fake_loghub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--half", "A", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "Apache" in out and "HDFS" not in out and "Linux" not in out
    assert "full-set" not in out and "average A" in out
