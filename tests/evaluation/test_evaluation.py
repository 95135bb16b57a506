"""Evaluation: scoring math on hand-written incidents, scenario validation, the suite and the demo."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from rich.console import Console

from logvigil.core.yamlfile import ConfigError
from logvigil.evaluation.demo import demo_faults, render_demo, run_demo
from logvigil.evaluation.rendering import render, to_json
from logvigil.evaluation.scenario import ExpectedFault, load_scenario, load_suite
from logvigil.evaluation.scoring import (
    DETECT_WITHIN,
    SILENCE_DETECT_WITHIN,
    Detection,
    percentile,
    score,
)
from logvigil.evaluation.suite import evaluate_suite

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "tests" / "scenarios"
GOLDEN = Path(__file__).parent / "golden" / "scenario"
BAD_CASES = sorted(p.stem for p in GOLDEN.glob("bad_*.yaml"))

T0 = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def oom(**over: Any) -> ExpectedFault:
    spec = {
        "id": "oom",
        "kind": "oom_cascade",
        "service": "postgres",
        "host": "db-01",
        "at": at(0),
        "end": at(20),
        "root": "postgres",
        "affected": ["nextcloud", "gitea", "nginx"],
    }
    spec.update(over)
    return ExpectedFault.model_validate(spec)


def incident(
    iid: int,
    services: list[str],
    trigger_minutes: list[float],
    *,
    root: str | None = "postgres",
    hosts: list[str] | None = None,
    root_host: str | None = None,
) -> dict[str, Any]:
    return {
        "id": iid,
        "opened_at": at(trigger_minutes[0]),
        "resolved_at": None,
        "severity": "critical",
        "services": services,
        "hosts": hosts if hosts is not None else ["db-01", "web-01"],
        "triggers": [
            {
                "detector": "primitive",
                "service": services[0],
                "host": None,
                "at": at(m),
                "summary": "x",
            }
            for m in trigger_minutes
        ],
        "suspected_root": {"service": root, "host": root_host},
        "blast_radius": [],
    }


# --------------------------------------------------------------------------- scoring


def test_a_fault_caught_in_one_incident_at_the_next_tick_passes_everything() -> None:
    s = score([oom()], [incident(1, ["postgres", "nextcloud", "nginx"], [1, 2])], hours=24)
    (o,) = s.outcomes
    assert o.detection is Detection.IN_TIME
    assert o.latency == timedelta(minutes=1)
    assert o.incidents == ("1",)
    assert o.root_ok is True
    m = s.metrics
    assert (m.recall, m.false_incidents, m.incidents_per_fault, m.root_accuracy) == (1, 0, 1, 1)
    assert m.ttd_p50 == m.ttd_p95 == timedelta(minutes=1)
    assert s.passed


def test_exactly_two_ticks_is_still_in_time_but_three_is_late() -> None:
    in_time = score([oom()], [incident(1, ["postgres"], [2])], hours=24)
    late = score([oom()], [incident(1, ["postgres"], [3])], hours=24)
    assert timedelta(minutes=2) == DETECT_WITHIN
    assert in_time.outcomes[0].detection is Detection.IN_TIME
    assert late.outcomes[0].detection is Detection.LATE
    assert late.metrics.recall == 1 and late.metrics.in_time == 0
    assert not late.passed
    assert [r.passed for r in late.metrics.requirements()][:3] == [False, True, True]


def test_a_silence_has_thirty_minutes() -> None:
    f = ExpectedFault.model_validate(
        {"id": "s", "kind": "silent_service", "service": "gitea", "at": at(0), "root": "gitea"}
    )
    ok = score([f], [incident(1, ["gitea"], [30], root="gitea")], hours=24)
    late = score([f], [incident(1, ["gitea"], [31], root="gitea")], hours=24)
    assert timedelta(minutes=30) == SILENCE_DETECT_WITHIN
    assert ok.outcomes[0].detection is Detection.IN_TIME
    assert late.outcomes[0].detection is Detection.LATE


def test_no_incident_is_a_missed_fault() -> None:
    s = score([oom()], [], hours=24)
    assert s.outcomes[0].detection is Detection.MISSED
    assert s.outcomes[0].latency is None and s.outcomes[0].root_ok is None
    assert s.metrics.recall == 0 and s.metrics.ttd_p50 is None
    assert [r.passed for r in s.metrics.requirements()][:3] == [False, True, False]


def test_an_incident_only_about_the_dependants_does_not_detect_the_fault() -> None:
    s = score([oom()], [incident(1, ["nginx", "nextcloud"], [1], root="nginx")], hours=24)
    (o,) = s.outcomes
    assert o.detection is Detection.MISSED
    assert o.incidents == ("1",)  # but it is about the fault: not a false incident
    assert s.false_incidents == ()


def test_an_incident_before_the_fault_is_false_and_does_not_detect_it() -> None:
    s = score([oom()], [incident(1, ["postgres"], [-30])], hours=48)
    assert s.outcomes[0].detection is Detection.MISSED
    assert s.false_incidents == ("1",)
    assert s.metrics.false_per_day == 0.5


def test_an_incident_long_after_the_fault_ended_is_false() -> None:
    s = score([oom()], [incident(1, ["postgres"], [1]), incident(2, ["postgres"], [90])], hours=24)
    assert s.false_incidents == ("2",)
    assert s.outcomes[0].incidents == ("1",)


def test_an_unrelated_incident_during_the_fault_is_false() -> None:
    s = score(
        [oom()],
        [incident(1, ["postgres"], [1]), incident(2, ["dns"], [5], hosts=["pi-01"], root="dns")],
        hours=24,
    )
    assert s.false_incidents == ("2",)
    assert [r.passed for r in s.metrics.requirements()][:3] == [True, False, True]


def test_two_incidents_for_one_fault_fail_one_incident_per_fault() -> None:
    s = score(
        [oom()],
        [incident(1, ["postgres"], [1]), incident(2, ["nginx"], [2], root="nginx")],
        hours=24,
    )
    (o,) = s.outcomes
    assert o.incidents == ("1", "2")
    assert o.detected_by == "1" and o.root_ok is True
    assert s.metrics.incidents_per_fault == 2
    assert s.false_incidents == ()
    assert [r.passed for r in s.metrics.requirements()][:3] == [True, True, False]


def test_the_earliest_covering_trigger_decides_detection() -> None:
    s = score(
        [oom()],
        [incident(1, ["postgres"], [5], root="nginx"), incident(2, ["postgres"], [1])],
        hours=24,
    )
    assert s.outcomes[0].detected_by == "2"
    assert s.outcomes[0].latency == timedelta(minutes=1)


def test_a_wrong_root_is_counted_but_is_not_a_requirement() -> None:
    s = score([oom()], [incident(1, ["postgres", "nginx"], [1], root="nginx")], hours=24)
    (o,) = s.outcomes
    assert o.root_ok is False and o.suspected_root == "nginx"
    assert s.metrics.root_accuracy == 0
    assert s.passed


def test_a_host_fault_is_covered_by_its_host_and_rooted_at_it() -> None:
    f = ExpectedFault.model_validate(
        {"id": "h", "kind": "silent_host", "host": "pi-01", "at": at(0)}
    )
    right = incident(1, ["dns"], [20], hosts=["pi-01"], root=None, root_host="pi-01")
    wrong = incident(2, ["dns"], [20], hosts=["pi-01"], root="dns", root_host="pi-01")
    assert score([f], [right], hours=24).outcomes[0].root_ok is True
    assert score([f], [wrong], hours=24).outcomes[0].root_ok is False
    elsewhere = incident(3, ["dns"], [20], hosts=["nas-01"], root=None)
    assert score([f], [elsewhere], hours=24).outcomes[0].detection is Detection.MISSED


def test_no_faults_and_no_incidents_pass_and_any_incident_is_false() -> None:
    assert score([], [], hours=24).passed
    s = score([], [incident(1, ["sshd"], [0], hosts=["nas-01"], root="sshd")], hours=12)
    assert s.false_incidents == ("1",)
    assert s.metrics.false_per_day == 2
    assert s.metrics.recall is None and not s.passed


def test_percentiles_are_nearest_rank() -> None:
    mins = [timedelta(minutes=m) for m in (1, 2, 3, 4, 100)]
    assert percentile(mins, 50) == timedelta(minutes=3)
    assert percentile(mins, 95) == timedelta(minutes=100)
    assert percentile([], 50) is None


def test_an_incident_without_its_times_is_refused() -> None:
    with pytest.raises(ValueError, match="missing field 'opened_at'"):
        score([oom()], [{"id": 1, "services": ["postgres"]}], hours=1)


# --------------------------------------------------------------------------- scenario.yaml


@pytest.mark.parametrize("case", BAD_CASES)
def test_a_bad_scenario_is_refused_with_file_line_and_field(case: str, tmp_path: Path) -> None:
    shutil.copyfile(GOLDEN / f"{case}.yaml", tmp_path / "scenario.yaml")
    shutil.copyfile(SUITE / "oom_cascade" / "inventory.yaml", tmp_path / "inventory.yaml")
    (tmp_path / "logs.jsonl").write_text("")
    with pytest.raises(ConfigError) as err:
        load_scenario(tmp_path)
    got = str(err.value).replace(str(tmp_path) + "/", "")
    assert got == (GOLDEN / f"{case}.txt").read_text().rstrip("\n")


def test_a_missing_scenario_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"scenario.yaml: file not found"):
        load_scenario(tmp_path)


def test_recorded_logs_are_read_and_their_hours_measured(tmp_path: Path) -> None:
    import gzip

    (tmp_path / "scenario.yaml").write_text(
        "description: recorded\ninventory: inventory.yaml\nlogs: {file: logs.jsonl.gz}\n"
        "expect: {faults: []}\n"
    )
    shutil.copyfile(SUITE / "oom_cascade" / "inventory.yaml", tmp_path / "inventory.yaml")
    rows = [{"ts": at(m), "host": "db-01", "service": "postgres", "message": "x"} for m in (0, 90)]
    with gzip.open(tmp_path / "logs.jsonl.gz", "wt") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    s = load_scenario(tmp_path)
    assert len(list(s.lines())) == 2
    assert s.hours() == 1.5


# --------------------------------------------------------------------------- the suite


def test_the_suite_has_every_required_scenario_with_enough_history() -> None:
    scenarios = {s.name: s for s in load_suite(SUITE)}  # also checks every digest
    kinds = {f.kind.value for s in scenarios.values() for f in s.injected}
    assert kinds >= {
        "oom_cascade",
        "disk_full",
        "silent_service",
        "silent_host",
        "new_error_template",
        "error_spike",
        "noise_burst",
        "benign_warning",
        # issue 11: the shapes of real machines
        "night_quiet",
        "clean_reboot",
        "unclean_reboot",
        "suspend",
        "sshd_scan",
        "oom_storm",
        "sshd_failure",
    }
    for s in scenarios.values():
        synth = s.spec.logs.synth
        assert synth is not None
        end = synth.start + timedelta(hours=synth.hours)
        for f in s.injected:
            # A background behaviour (a service quiet every night) holds from the first
            # minute, so that the learning day already shows it; what pages comes after.
            if f.kind.pages:
                assert f.start - synth.start >= timedelta(hours=24), (s.name, "learning period")
            assert end - f.end >= timedelta(hours=1), (s.name, "time after the fault")
        assert sum(1 for _ in s.lines()) < 60_000, s.name


def test_the_scenario_folders_are_what_the_generator_writes() -> None:
    import runpy

    gen = runpy.run_path(str(SUITE / "generate.py"))
    assert gen["main"](["--check"]) == 0


def test_evaluate_suite_scores_every_scenario_with_an_injected_runner(tmp_path: Path) -> None:
    for name in ("oom_cascade", "benign_warning"):
        shutil.copytree(SUITE / name, tmp_path / name)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "scenario.yaml").write_text("description: x\n")

    def perfect(scenario) -> list[dict[str, Any]]:  # one incident per expected fault
        return [
            {
                "id": f.id,
                "opened_at": f.at + timedelta(minutes=1),
                "services": [f.service],
                "hosts": [f.host],
                "triggers": [{"detector": "d", "at": f.at + timedelta(minutes=1)}],
                "suspected_root": {"service": f.root, "host": f.host},
            }
            for f in scenario.expected
        ]

    report = evaluate_suite(tmp_path, perfect)
    by_name = {r.name: r for r in report.results}
    assert by_name["oom_cascade"].passed and by_name["benign_warning"].passed
    assert "expect: required field is missing" in (by_name["broken"].error or "")
    assert not report.passed
    assert report.overall.faults == 1 and report.overall.recall == 1
    data = to_json(report)
    assert data["thresholds"]["detect_within_s"] == 120
    assert data["scenarios"][2]["faults"][0]["latency_s"] == 60
    console = Console(record=True, width=140)
    render(report, console)
    text = console.export_text()
    assert (
        "oom_cascade" in text and "in time" in text and "1 scenario(s) could not be scored" in text
    )


# --------------------------------------------------------------------------- the demo


class FakeBacktest:
    """Catches the OOM and the full disk, misses the silence, pages on the botnet."""

    def __init__(self) -> None:
        self.lines = 0

    def __call__(self, lines, *, fmt, settings, inventory_path, db_url):
        self.lines = sum(1 for _ in lines)
        assert Path(inventory_path).is_file() and fmt == "jsonl"
        faults = {f.id: f for f in demo_faults(3)}

        def inc(iid: int, f, services: list[str], root: str, minutes: int = 1) -> dict:
            t = f.start + timedelta(minutes=minutes)
            return {
                "id": iid,
                "opened_at": t,
                "services": services,
                "hosts": [f.host],
                "triggers": [{"detector": "x", "service": services[0], "at": t, "summary": "s"}],
                "suspected_root": {"service": root, "host": f.host},
            }

        class Result:
            incidents: ClassVar[list[dict]] = [
                inc(1, faults["oom"], ["postgres", "nginx"], "postgres"),
                inc(2, faults["disk"], ["backup"], "nfs"),
                inc(3, faults["newerr"], ["postgres"], "postgres", minutes=5),
                inc(4, faults["botnet"], ["sshd"], "sshd"),
            ]

        return Result()


def test_the_demo_gives_one_verdict_per_fault() -> None:
    fake = FakeBacktest()
    result = run_demo(days=3, run_backtest=fake)
    assert fake.lines == result.lines > 3 * 24 * 60 * 10
    texts = [v.text for v in result.verdicts]
    assert texts[0] == (
        "OOM cascade on postgres (db-01) at 2026-03-03 10:00: detected in 1 min, root postgres ✓"
    )
    assert texts[1].endswith("detected in 1 min, root nfs ✗ (expected backup)")
    assert texts[2].endswith(": MISSED ✗")
    assert "LATE" in texts[3]
    assert texts[4] == "noise burst on nas-01 at 2026-03-04 03:00: paged ✗ (incident 4)"
    assert [v.ok for v in result.verdicts] == [True, False, False, False, False]
    console = Console(record=True, width=140)
    render_demo(result, console)
    assert "(false)" in console.export_text()


def test_a_demo_needs_a_day_to_learn() -> None:
    with pytest.raises(ValueError, match="days must be at least 2"):
        demo_faults(1)


def test_report_roots_and_impact_are_scored_when_reports_are_attached() -> None:
    inc = incident(1, ["postgres", "nextcloud"], [1], root="postgres")
    inc["report"] = {
        "root_cause": {"service": "postgres", "host": "db-01", "confidence": 0.9},
        "no_root_cause": False,
        "impact": [{"service": "nextcloud", "status": "affected"}],
    }
    f = ExpectedFault.model_validate(
        {
            "id": "o",
            "kind": "oom_cascade",
            "service": "postgres",
            "at": at(0),
            "root": "postgres",
            "affected": ["nextcloud", "nginx"],
        }
    )
    s = score([f], [inc], hours=24)
    assert s.metrics.report_root_accuracy == 1.0
    assert s.metrics.impact_coverage == 0.5
    wrong = dict(inc, report={**inc["report"], "root_cause": None, "no_root_cause": True})
    assert score([f], [wrong], hours=24).metrics.report_root_accuracy == 0.0
    assert not score([f], [wrong], hours=24).passed
