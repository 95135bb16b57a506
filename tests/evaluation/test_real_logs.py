"""Real-log labels: reading them (times, zones, New Year, hostile files) and scoring a
backtest's incidents against them (found in time, false pages, incidents per event)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from logvigil.core.yamlfile import ConfigError
from logvigil.evaluation.labels import LabelFile, label_files, load_labels
from logvigil.evaluation.realscore import RealSummary, score_file

LABELS = """\
file: app.log
format: syslog
timezone_of_timestamps: America/New_York
year: 2005
span: {start: "12-30 10:00:00", end: "01-02 12:00:00"}
must_page:
  - id: crash
    start: "12-31 23:30:00"
    end:   "12-31 23:31:00"
    kind: unclean_reboot
    host: combo
    services: [kernel]
    evidence: ["Dec 31 23:30:00 combo kernel: Linux version 2.6.5"]
  - id: oom-storm
    start: "01-01 04:00:00"
    end:   "01-01 09:00:00"
    kind: oom
    host: combo
    services: [kernel, httpd]
    kills: 56
may_page:
  - id: warn
    start: "01-02 08:00:00"
    end:   "01-02 08:00:00"
    kind: kernel_warning
    host: combo
    why: a judgement call
benign_notes: brute force
"""


def write(tmp_path: Path, text: str, name: str = "app.log.labels.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def incident(
    iid: int,
    opened: datetime,
    *triggers: datetime,
    title: str = "x",
    root: dict | None = None,
    host: str = "combo",
    report_root: str | None = None,
) -> dict:
    obj = {
        "id": iid,
        "opened_at": opened.isoformat(),
        "hosts": [host],
        "services": ["kernel"],
        "suspected_root": root if root is not None else {"service": "kernel", "host": host},
        "triggers": [{"at": t.isoformat(), "summary": title} for t in (opened, *triggers)],
    }
    if report_root is not None:
        obj["report"] = {"root_cause": {"service": report_root}}
    return obj


def test_label_times_are_read_in_the_files_zone_and_cross_new_year(tmp_path: Path) -> None:
    labels = load_labels(write(tmp_path, LABELS))
    # EST is UTC-5 in winter; January lines belong to the next year.
    assert labels.utc("12-31 23:30:00") == datetime(2006, 1, 1, 4, 30, tzinfo=UTC)
    assert labels.utc("01-01 04:00:00") == datetime(2006, 1, 1, 9, 0, tzinfo=UTC)
    assert labels.first == datetime(2005, 12, 30, 15, 0, tzinfo=UTC)
    assert round(labels.days, 3) == round(
        (datetime(2006, 1, 2, 17) - datetime(2005, 12, 30, 15)) / timedelta(days=1), 3
    )
    assert labels.must_page[1].model_extra == {"kills": 56}  # informative keys are kept


def test_a_dst_gap_time_in_labels_is_read_before_the_gap(tmp_path: Path) -> None:
    text = LABELS.replace(
        '"12-30 10:00:00", end: "01-02 12:00:00"', '"03-12 10:00:00", end: "03-14 12:00:00"'
    )
    labels = load_labels(write(tmp_path, text.replace("year: 2005", "year: 2016")))
    # 02:30 does not exist in New York on 2016-03-13: read with the offset before the gap.
    assert labels.utc("03-13 02:30:00") == datetime(2016, 3, 13, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (
            LABELS.replace("format: syslog", "format: csv"),
            "app.log.labels.yaml:2: format: Input should be",
        ),
        (
            LABELS.replace('start: "12-31 23:30:00"', 'start: "31-12 23:30"'),
            "must_page[0].start: expected a time as MM-DD HH:MM:SS",
        ),
        (
            LABELS.replace('start: "12-31 23:30:00"', 'start: "02-30 23:30:00"'),
            "must_page[0].start: not a time of the year",
        ),
        (
            LABELS.replace("America/New_York", "Mars/Olympus"),
            "timezone_of_timestamps: unknown time zone 'Mars/Olympus'",
        ),
        (LABELS.replace("id: warn", "id: crash"), "event ids must be unique, repeated: ['crash']"),
        (
            LABELS.replace("year: 2005", "year: 99999999999999999999"),
            "year: Input should be less than or equal to 2200",
        ),
        (
            LABELS.replace("    kind: oom\n", ""),
            "app.log.labels.yaml:14: must_page[1].kind: required field is missing",
        ),
        ("- just\n- a list\n", "a label file is a mapping"),
        ("file: [unclosed\n", "YAML syntax error"),
    ],
)
def test_a_broken_label_file_is_a_located_error(tmp_path: Path, broken: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_labels(write(tmp_path, broken))
    assert expected in str(info.value)


def test_a_folder_without_label_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no \*\.labels\.yaml file"):
        label_files(tmp_path)
    with pytest.raises(ConfigError, match="no such directory"):
        label_files(tmp_path / "absent")


def labels(tmp_path: Path) -> LabelFile:
    return load_labels(write(tmp_path, LABELS))


def test_an_incident_opened_at_the_event_finds_it_in_time(tmp_path: Path) -> None:
    lf = labels(tmp_path)
    crash = lf.utc("12-31 23:30:00")
    storm = lf.utc("01-01 04:00:00")
    s = score_file(
        lf, [incident(1, crash + timedelta(minutes=1)), incident(2, storm)], hosts=1, lines=10
    )
    assert s.found == 2 and not s.false_pages
    assert [e.detected_after for e in s.must] == [timedelta(minutes=1), timedelta(0)]


def test_an_incident_too_late_or_too_early_does_not_count(tmp_path: Path) -> None:
    lf = labels(tmp_path)
    crash = lf.utc("12-31 23:30:00")
    late = incident(1, crash + timedelta(minutes=11))  # inside the match window, too late
    early = incident(2, crash - timedelta(minutes=3))  # before the lead
    s = score_file(lf, [late, early], hosts=1, lines=10)
    crash_outcome = s.must[0]
    assert not crash_outcome.found and crash_outcome.incidents == (1,)
    assert [i.id for i in s.false_pages] == [2]


def test_joining_an_open_incident_is_part_of_one(tmp_path: Path) -> None:
    lf = labels(tmp_path)
    crash = lf.utc("12-31 23:30:00")
    # Opened an hour before for something else, joined by the crash's finding.
    joined = incident(1, crash - timedelta(hours=1), crash + timedelta(minutes=2))
    s = score_file(lf, [joined], hosts=1, lines=10)
    assert s.must[0].found and s.must[0].detected_after == timedelta(minutes=2)
    assert not s.false_pages


def test_a_storm_paged_per_kill_shows_as_incidents_per_event(tmp_path: Path) -> None:
    lf = labels(tmp_path)
    storm = lf.utc("01-01 04:00:00")
    paged = [incident(i, storm + timedelta(minutes=30 * i)) for i in range(1, 6)]
    s = score_file(lf, paged, hosts=1, lines=10)
    assert s.max_incidents_per_event == 5
    summary = RealSummary((s,))
    assert dict(summary.requirements)["no must-page event in more than 3 incidents"] is False


def test_may_page_events_are_neither_required_nor_false(tmp_path: Path) -> None:
    lf = labels(tmp_path)
    warn = lf.utc("01-02 08:00:00")
    s = score_file(lf, [incident(7, warn + timedelta(minutes=5))], hosts=1, lines=10)
    assert not s.false_pages and s.found == 0
    assert [e.incidents for e in s.events if not e.must] == [(7,)]


def test_false_pages_are_counted_per_host_day(tmp_path: Path) -> None:
    lf = labels(tmp_path)
    quiet = lf.utc("12-30 12:00:00")
    s = score_file(
        lf, [incident(1, quiet), incident(2, quiet + timedelta(hours=1))], hosts=2, lines=10
    )
    assert len(s.false_pages) == 2
    assert s.false_per_host_day == pytest.approx(2 / (2 * lf.days))
    summary = RealSummary((s,))
    assert summary.false_pages == 2 and not summary.passed


def test_a_found_event_is_named_right_only_with_its_host_and_culprit(tmp_path: Path) -> None:
    lf = labels(tmp_path)
    crash, storm = lf.utc("12-31 23:30:00"), lf.utc("01-01 04:00:00")
    host_root = {"host": "combo"}
    right = [incident(1, crash, root=host_root), incident(2, storm, report_root="httpd")]
    s = score_file(lf, right, hosts=1, lines=10)
    assert [e.named for e in s.must] == [True, True] and s.named == 2
    # A host root does not name an OOM storm; a culprit on another host names nothing.
    wrong = [incident(1, crash, host="other"), incident(2, storm, root=host_root)]
    s = score_file(lf, wrong, hosts=2, lines=10)
    assert [e.named for e in s.must] == [False, False]
    requirement = "every must-page incident names the right host and culprit"
    assert dict(RealSummary((s,)).requirements)[requirement] is False


def test_the_report_root_wins_over_the_suspected_root(tmp_path: Path) -> None:
    lf = labels(tmp_path)
    storm = lf.utc("01-01 04:00:00")
    # The suspected root is the messenger (kernel, in the event's services too), the
    # report says sshd, which is not: the report is what the operator reads.
    s = score_file(lf, [incident(1, storm, report_root="sshd")], hosts=1, lines=10)
    assert s.must[1].found and s.must[1].named is False
    assert s.must[0].named is None  # the crash was not found: nothing to name


def test_an_event_is_named_by_any_of_its_pages_in_time(tmp_path: Path) -> None:
    lf = labels(tmp_path)
    crash = lf.utc("12-31 23:30:00")
    # A unit failing at the boot after the crash paged first, the crash a minute later:
    # the crash is named by its own page, not by the earlier one about the unit.
    unit = incident(1, crash, root={"service": "cyrus-imapd", "host": "combo"})
    reboot = incident(2, crash + timedelta(minutes=1), root={"host": "combo"})
    s = score_file(lf, [unit, reboot], hosts=1, lines=10)
    assert s.must[0].detected_after == timedelta(0) and s.must[0].named is True
    # A right name that paged too late does not count.
    late = incident(2, crash + timedelta(minutes=11), root={"host": "combo"})
    s = score_file(lf, [unit, late], hosts=1, lines=10)
    assert s.must[0].found and s.must[0].named is False
