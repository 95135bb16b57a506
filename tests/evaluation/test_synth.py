"""The synthetic homelab: deterministic, realistic baselines, and faults that write what they claim."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from logvigil.core.yamlfile import ConfigError
from logvigil.evaluation.scenario import load_scenario
from logvigil.evaluation.synth import (
    DEMO_START,
    Fault,
    FaultKind,
    Line,
    activity,
    generate,
    generate_jsonl,
)
from logvigil.ingest.templates.masking import mask_token

DAY = timedelta(days=1)
T = DEMO_START + DAY + timedelta(hours=10)  # 10:00 on day two
M = timedelta(minutes=1)


def lines(minutes: int, *faults: Fault, seed: int = 3, start=DEMO_START) -> list[Line]:
    return list(generate(minutes, start=start, seed=seed, faults=faults))


def window(ls: list[Line], start, end) -> list[Line]:
    return [ln for ln in ls if start <= ln.ts < end]


def digest(chunks) -> str:
    h = hashlib.sha256()
    for c in chunks:
        h.update(c)
    return h.hexdigest()


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    f = Fault(
        "oom", FaultKind.OOM_CASCADE, DEMO_START + timedelta(hours=1), 10 * M, service="postgres"
    )
    a = digest(generate_jsonl(180, seed=5, faults=[f]))
    assert a == digest(generate_jsonl(180, seed=5, faults=[f]))
    assert a != digest(generate_jsonl(180, seed=6, faults=[f]))


def test_lines_are_jsonl_in_time_order() -> None:
    raw = list(generate_jsonl(120, seed=1))
    objs = [json.loads(r) for r in raw]
    assert all(r.endswith(b"\n") for r in raw)
    assert set(objs[0]) >= {"ts", "host", "service", "severity", "message"}
    assert [o["ts"] for o in objs] == sorted(o["ts"] for o in objs)


def test_traffic_follows_the_time_of_day() -> None:
    assert activity(DEMO_START.replace(hour=4)) == pytest.approx(0.25)
    assert activity(DEMO_START.replace(hour=16)) == pytest.approx(1.0)
    ls = lines(24 * 60)
    night = len(window(ls, DEMO_START + timedelta(hours=2), DEMO_START + timedelta(hours=6)))
    day = len(window(ls, DEMO_START + timedelta(hours=14), DEMO_START + timedelta(hours=18)))
    assert day > 1.5 * night


def test_the_baseline_has_a_low_steady_error_rate_and_noise() -> None:
    ls = lines(24 * 60)
    errors = Counter(ln.inventory_service for ln in ls if ln.severity == "error")
    assert 24 <= errors["nextcloud"] <= 120  # a few an hour
    assert errors["postgres"] >= 10
    sshd = sum(ln.service == "sshd" and "Failed password" in ln.message for ln in ls)
    scans = sum('" 404 ' in ln.message for ln in ls)
    assert sshd > 300 and scans > 200
    for host in ("db-01", "web-01", "nas-01", "pi-01"):
        assert any(ln.host == host for ln in ls)


def shape(message: str) -> str:
    return " ".join(mask_token(tok) for tok in message.split())


def test_no_error_shape_of_the_baseline_first_appears_after_the_learning_period() -> None:
    """Otherwise a healthy homelab would page for a 'new' error on day two."""
    ls = lines(48 * 60, seed=20)
    first: dict[tuple[str, str], object] = {}
    for ln in ls:
        if ln.severity == "error":
            first.setdefault((ln.inventory_service, shape(ln.message)), ln.ts)
    late = {k: v for k, v in first.items() if v >= DEMO_START + DAY}
    assert late == {}


def test_injecting_a_fault_leaves_every_other_line_unchanged() -> None:
    f = Fault(
        "newerr",
        FaultKind.NEW_ERROR_TEMPLATE,
        DEMO_START + timedelta(hours=2),
        30 * M,
        service="postgres",
    )
    plain = lines(240)
    faulty = lines(240, f)
    assert [ln for ln in faulty if "could not read block" not in ln.message] == plain


def test_an_oom_cascade_kills_silences_and_breaks_the_dependants() -> None:
    f = Fault("oom", FaultKind.OOM_CASCADE, T, 20 * M, service="postgres")
    ls = lines(36 * 60, f)
    first = window(ls, T, T + M)
    kernel = [ln for ln in first if ln.service == "kernel" and ln.host == "db-01"]
    assert any(
        ln.message.startswith("Out of memory: Killed process 2811 (postgres) total-vm:")
        and ln.severity == "error"
        for ln in kernel
    )
    assert any(
        ln.message == "postgresql@15-main.service: Failed with result 'oom-kill'."
        and ln.inventory_service == "postgres"
        for ln in first
    )
    during = window(ls, T, T + 20 * M)
    assert not [ln for ln in during if ln.service == "postgres"]
    refused = Counter(
        ln.service for ln in during if ln.severity == "error" and "onnection refused" in ln.message
    )
    assert refused["nextcloud"] >= 20 and refused["gitea"] >= 10
    assert sum("upstream prematurely closed connection" in ln.message for ln in during) >= 20
    after = window(ls, T + 20 * M, T + 21 * M)
    assert any(ln.message == "database system is ready to accept connections" for ln in after)
    assert f.expected()["affected"] == ["nextcloud", "gitea", "nginx"]


def test_a_full_disk_writes_no_space_left_on_device() -> None:
    f = Fault("disk", FaultKind.DISK_FULL, T, 120 * M, service="backup")
    ls = lines(36 * 60, f)
    fails = [ln for ln in ls if "no space left on device" in ln.message.lower()]
    assert [ln.ts.hour for ln in fails] == [10, 11]
    assert all(ln.host == "nas-01" and ln.service == "restic" for ln in fails)
    assert any("Failed with result 'exit-code'" in ln.message for ln in window(ls, T, T + M))
    pg = Fault("pgdisk", FaultKind.DISK_FULL, T, 5 * M, service="postgres")
    assert 5 <= sum("No space left on device" in ln.message for ln in lines(36 * 60, pg)) <= 15


def test_a_silent_service_stops_entirely_and_nothing_else_does() -> None:
    f = Fault("quiet", FaultKind.SILENT_SERVICE, T, 60 * M, service="gitea")
    plain, faulty = lines(36 * 60), lines(36 * 60, f)
    assert not [ln for ln in window(faulty, T, T + 60 * M) if ln.service == "gitea"]
    assert [ln for ln in plain if not (ln.service == "gitea" and T <= ln.ts < T + 60 * M)] == faulty
    assert window(plain, T, T + 60 * M).count  # the baseline had gitea lines there
    assert sum(ln.service == "gitea" for ln in window(plain, T, T + 60 * M)) >= 60


def test_a_silent_host_stops_every_service_on_it() -> None:
    f = Fault("down", FaultKind.SILENT_HOST, T, 60 * M, host="pi-01")
    ls = lines(36 * 60, f)
    assert not [ln for ln in window(ls, T, T + 60 * M) if ln.host == "pi-01"]
    assert [ln for ln in window(ls, T + 60 * M, T + 61 * M) if ln.host == "pi-01"]
    assert f.expected() == {
        "id": "down",
        "kind": "silent_host",
        "host": "pi-01",
        "at": "2026-03-03T10:00:00Z",
        "end": "2026-03-03T11:00:00Z",
    }


def test_a_new_error_template_was_never_written_before() -> None:
    f = Fault("new", FaultKind.NEW_ERROR_TEMPLATE, T, 30 * M, service="postgres")
    ls = lines(36 * 60, f)
    hits = [ln for ln in ls if "could not read block" in ln.message]
    assert hits[0].ts < T + M and hits[0].severity == "error"
    assert all(T <= ln.ts < T + 30 * M for ln in hits)


def test_an_error_spike_hits_one_service_with_its_usual_error() -> None:
    f = Fault("spike", FaultKind.ERROR_SPIKE, T, 15 * M, service="nextcloud")
    plain, faulty = lines(36 * 60, seed=4), lines(36 * 60, f, seed=4)

    def errors(ls, service):
        return sum(ln.severity == "error" and ln.inventory_service == service for ln in ls)

    during = window(faulty, T, T + 15 * M)
    assert errors(during, "nextcloud") >= 15 * 20
    assert errors(window(plain, T, T + 15 * M), "nextcloud") <= 5
    for other in ("postgres", "nginx", "gitea"):
        assert errors(during, other) == errors(window(plain, T, T + 15 * M), other)
    spiked = {
        shape(ln.message)
        for ln in during
        if ln.inventory_service == "nextcloud" and ln.severity == "error"
    }
    usual = {
        shape(ln.message)
        for ln in plain[:20000]
        if ln.inventory_service == "nextcloud" and ln.severity == "error"
    }
    assert spiked <= usual


def test_a_noise_burst_is_thousands_of_lines_in_minutes() -> None:
    f = Fault("bots", FaultKind.NOISE_BURST, T, 10 * M, host="web-01")
    ls = window(lines(36 * 60, f), T, T + 10 * M)
    ssh = sum(ln.service == "sshd" and ln.host == "web-01" for ln in ls)
    scans = sum('" 404 ' in ln.message for ln in ls)
    assert ssh > 2000 and scans > 1000
    assert f.expected() is None and not f.kind.pages


def test_a_benign_warning_is_a_new_warning_and_nothing_worse() -> None:
    f = Fault("coll", FaultKind.BENIGN_WARNING, T, 60 * M, service="postgres")
    plain, faulty = lines(36 * 60), lines(36 * 60, f)
    before = set(plain)
    added = [ln for ln in faulty if ln not in before]
    assert len(added) >= 60
    assert {ln.severity for ln in added} == {"warning"}
    assert any("collation version mismatch" in ln.message for ln in added)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": FaultKind.OOM_CASCADE, "service": "nginx"}, "modelled for postgres, redis"),
        ({"kind": FaultKind.SILENT_SERVICE, "service": "mysql"}, "needs a service of the homelab"),
        ({"kind": FaultKind.SILENT_HOST, "host": "db-02"}, "needs a host"),
        (
            {"kind": FaultKind.DISK_FULL, "service": "postgres", "host": "web-01"},
            "does not run on web-01",
        ),
    ],
)
def test_a_fault_that_does_not_fit_the_homelab_is_refused(spec, message) -> None:
    with pytest.raises(ValueError, match=message):
        Fault("f", start=T, **spec)


def test_two_faults_with_one_id_are_refused() -> None:
    f = Fault("f", FaultKind.SILENT_HOST, T, host="pi-01")
    with pytest.raises(ValueError, match="unique"):
        list(generate(10, faults=[f, f]))


def test_a_digest_that_no_longer_matches_names_the_new_one(tmp_path: Path) -> None:
    suite = Path(__file__).resolve().parents[1] / "scenarios"
    (tmp_path / "inventory.yaml").write_text((suite / "oom_cascade" / "inventory.yaml").read_text())
    (tmp_path / "scenario.yaml").write_text(
        "description: d\ninventory: inventory.yaml\n"
        "logs:\n  synth: {start: 2026-03-02T00:00:00Z, hours: 1}\n  sha256: '" + "0" * 64 + "'\n"
        "expect: {faults: []}\n"
    )
    with pytest.raises(
        ConfigError,
        match=r"scenario.yaml:5: logs.sha256: the logs changed: their sha256 is now [0-9a-f]{64}",
    ):
        load_scenario(tmp_path)
