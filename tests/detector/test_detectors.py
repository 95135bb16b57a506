"""The four detectors (error_spike, new_template, silence, primitive): each fires on
its anomaly, stays silent on normal noise, respects learning, survives a restart
through JSON state, and never crashes on a hostile window or state."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from detector.detectors import DETECTORS, DetectorsConfig, build_detectors
from detector.detectors.base import CountRow, ServiceInfo, Window
from detector.detectors.error_spike import ErrorSpike, ErrorSpikeConfig
from detector.detectors.new_template import NewTemplate, NewTemplateConfig
from detector.detectors.primitive import PrimitiveConfig, PrimitiveDetector
from detector.detectors.silence import SilenceConfig
from logvigil.core.events import Severity
from logvigil.core.findings import Finding

T0 = datetime(2026, 3, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)
E, INFO = Severity.ERROR, Severity.INFO


def at(minute: int) -> datetime:
    return T0 + minute * MIN


def row(
    minute: int,
    service: str,
    count: int,
    *,
    severity: Severity = E,
    template: int = 1,
    host: str = "db-01",
) -> CountRow:
    return CountRow(at(minute), host, service, template, severity, count)


def window(
    start: int,
    rows: Iterable[CountRow] = (),
    *,
    minutes: int = 1,
    templates: Mapping[int, str] | None = None,
    new_pairs: Mapping[tuple[str, int], datetime] | None = None,
    services: Mapping[str, ServiceInfo] | None = None,
) -> Window:
    return Window(
        at(start),
        at(start + minutes),
        tuple(rows),
        dict(templates or {}),
        dict(new_pairs or {}),
        dict(services or {}),
    )


class Runner:
    """Runs one detector tick after tick, storing its state through JSON like the tick does."""

    def __init__(self, detector: Any, state: dict[str, Any] | None = None) -> None:
        self.detector = detector
        self.state: dict[str, Any] = state or {}
        self.findings: list[Finding] = []

    def tick(self, w: Window) -> list[Finding]:
        found, new_state = self.detector.evaluate(w, self.state, w.end)
        self.state = json.loads(json.dumps(new_state))
        self.findings.extend(found)
        return found

    def minutes(self, start: int, stop: int, rows_at: Any, **kw: Any) -> list[Finding]:
        out: list[Finding] = []
        for m in range(start, stop):
            out += self.tick(window(m, rows_at(m), **kw))
        return out


def spike(**kw: Any) -> ErrorSpike:
    return ErrorSpike(ErrorSpikeConfig(**{"learning_period_hours": 1, **kw}))


# -- error_spike ------------------------------------------------------------


def test_a_steady_error_rate_of_three_per_minute_never_fires() -> None:
    r = Runner(spike())
    assert r.minutes(0, 24 * 60, lambda m: [row(m, "postgres", 3)]) == []


def test_poisson_noise_around_three_errors_per_minute_does_not_fire_in_a_day() -> None:
    rng = random.Random(42)

    def poisson(lam: float) -> int:
        k, p, limit = 0, 1.0, math.exp(-lam)
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1

    r = Runner(spike())
    found = r.minutes(0, 24 * 60, lambda m: [row(m, "postgres", poisson(3))] if m else [])
    assert found == []


def test_one_error_over_a_zero_baseline_does_not_fire() -> None:
    r = Runner(spike())
    r.minutes(0, 120, lambda m: [row(m, "postgres", 5, severity=INFO)])
    assert r.tick(window(120, [row(120, "postgres", 1)])) == []
    assert r.tick(window(121, [row(121, "postgres", 9)])) == []


def test_a_real_burst_fires_once_with_a_readable_summary() -> None:
    r = Runner(spike())
    r.minutes(0, 120, lambda m: [row(m, "postgres", 1)] if m % 3 == 0 else [])
    found = r.tick(window(120, [row(120, "postgres", 48, host="db-01")]))
    assert len(found) == 1
    f = found[0]
    assert (f.detector, f.service, f.host, f.severity) == ("error_spike", "postgres", "db-01", E)
    assert f.started_at == at(120) and f.at == at(121)
    assert f.summary.startswith("postgres: 48 errors/min against a baseline of 0.")
    assert f.evidence["count"] == 48 and f.evidence["top_template_id"] == 1
    json.dumps(dict(f.evidence))
    # The burst goes on: no new finding every minute.
    assert r.minutes(121, 130, lambda m: [row(m, "postgres", 50)]) == []


def test_a_spike_fires_again_only_after_it_ended() -> None:
    r = Runner(spike(rearm_minutes=10))
    r.minutes(0, 120, lambda m: [row(m, "postgres", 1, severity=INFO)])
    assert len(r.tick(window(120, [row(120, "postgres", 60)]))) == 1
    # Five quiet minutes are not the end of it ...
    r.minutes(121, 126, lambda m: [])
    assert r.tick(window(126, [row(126, "postgres", 80)])) == []
    # ... but more than rearm_minutes without an anomalous minute are.
    r.minutes(127, 150, lambda m: [])
    assert len(r.tick(window(150, [row(150, "postgres", 90)]))) == 1


def test_a_burst_during_the_learning_period_does_not_fire() -> None:
    r = Runner(ErrorSpike())  # default: 24 hours
    r.minutes(0, 60, lambda m: [row(m, "postgres", 1, severity=INFO)])
    assert r.tick(window(60, [row(60, "postgres", 500)])) == []
    r.minutes(61, 24 * 60, lambda m: [row(m, "postgres", 1, severity=INFO)])
    assert len(r.tick(window(24 * 60, [row(24 * 60, "postgres", 500)]))) == 1


def test_the_first_tick_ever_learns_and_does_not_fire_even_without_learning() -> None:
    r = Runner(spike(learning_period_hours=0))
    assert r.tick(window(0, [row(0, "postgres", 10_000)])) == []
    assert r.state["postgres"]["s"] == r.state["postgres"]["t"]


def test_a_million_errors_in_a_minute_fires_once_and_does_not_blind_the_baseline() -> None:
    r = Runner(spike())
    r.minutes(0, 120, lambda m: [row(m, "postgres", 1, severity=INFO)])
    assert len(r.tick(window(120, [row(120, "postgres", 10**6)]))) == 1
    assert r.state["postgres"]["m"] < 1  # winsorised: the baseline took the threshold
    r.minutes(121, 200, lambda m: [])
    assert len(r.tick(window(200, [row(200, "postgres", 40)]))) == 1


def test_a_multi_minute_window_gives_the_same_findings_as_minute_by_minute() -> None:
    def rows_at(m: int) -> list[CountRow]:
        n = 70 if m in (130, 131, 170) else (1 if m % 2 else 0)
        return (
            [row(m, "postgres", n), row(m, "nginx", 1, severity=INFO, host="web-01")] if n else []
        )

    one = Runner(spike())
    one.minutes(0, 200, rows_at)
    many = Runner(spike())
    many.minutes(0, 100, rows_at)
    many.tick(window(100, [r for m in range(100, 200) for r in rows_at(m)], minutes=100))
    assert [f.started_at for f in one.findings] == [at(130), at(170)]
    assert [(f.started_at, f.summary) for f in many.findings] == [
        (f.started_at, f.summary) for f in one.findings
    ]
    assert many.state == one.state


def test_a_restart_neither_relearns_nor_realerts() -> None:
    def rows_at(m: int) -> list[CountRow]:
        return [row(m, "postgres", 80 if 130 <= m < 140 else 2)]

    straight = Runner(spike())
    straight.minutes(0, 200, rows_at)
    first = Runner(spike())
    first.minutes(0, 135, rows_at)
    # A new process: a new detector, the state as read back from the database.
    second = Runner(spike(), json.loads(json.dumps(first.state)))
    second.minutes(135, 200, rows_at)
    assert len(straight.findings) == 1
    assert first.findings + second.findings == straight.findings
    assert second.state == straight.state


def test_a_window_evaluated_twice_does_not_fire_twice() -> None:
    r = Runner(spike())
    r.minutes(0, 120, lambda m: [row(m, "postgres", 1, severity=INFO)])
    w = window(120, [row(120, "postgres", 60)])
    assert len(r.tick(w)) == 1
    assert r.tick(w) == []


def test_a_service_without_errors_leaves_its_state_untouched() -> None:
    det = spike()
    r = Runner(det)
    r.minutes(0, 3, lambda m: [row(m, "postgres", 4, severity=INFO)])
    before = r.state["postgres"]
    _, new_state = det.evaluate(window(3, [row(3, "postgres", 4, severity=INFO)]), r.state, at(4))
    assert new_state["postgres"] is before


# -- new_template -----------------------------------------------------------


def new_template(**kw: Any) -> NewTemplate:
    return NewTemplate(NewTemplateConfig(**{"learning_period_hours": 1, **kw}))


def test_a_first_seen_error_template_after_learning_fires() -> None:
    r = Runner(new_template())
    r.minutes(0, 90, lambda m: [row(m, "nextcloud", 3, severity=INFO, template=7, host="web-01")])
    text = "could not connect to server: Connection refused " + "x" * 200
    found = r.tick(
        window(
            90,
            [row(90, "nextcloud", 2, template=812, host="web-01")],
            templates={812: text},
            new_pairs={("nextcloud", 812): at(90) + timedelta(seconds=12)},
        )
    )
    assert len(found) == 1
    f = found[0]
    assert (f.service, f.host, f.template_id, f.severity) == ("nextcloud", "web-01", 812, E)
    assert f.started_at == at(90) + timedelta(seconds=12)
    assert f.summary.startswith(
        "nextcloud: first-seen ERROR template #812: could not connect to server: Connection refused"
    )
    assert f.summary.endswith(" ...") and len(f.summary) < 200
    assert f.key == "new_template|nextcloud|812"


def test_a_first_seen_info_template_does_not_fire() -> None:
    r = Runner(new_template())
    r.minutes(0, 90, lambda m: [row(m, "nextcloud", 3, severity=INFO)])
    w = window(
        90,
        [row(90, "nextcloud", 1, severity=INFO, template=9)],
        new_pairs={("nextcloud", 9): at(90)},
    )
    assert r.tick(w) == []


def test_templates_first_seen_during_learning_never_fire() -> None:
    r = Runner(new_template())
    found = r.minutes(
        0,
        60,
        lambda m: [row(m, "nextcloud", 1, template=100 + m)],
        new_pairs=None,
    )
    assert found == []
    for m in range(0, 59):
        w = window(
            m, [row(m, "nextcloud", 1, template=500 + m)], new_pairs={("nextcloud", 500 + m): at(m)}
        )
        assert r.tick(w) == []  # within the learning hour that started at minute 0


def test_a_new_service_is_learning_even_when_its_first_window_brings_error_templates() -> None:
    r = Runner(new_template(learning_period_hours=0))
    w = window(0, [row(0, "redis", 1, template=5)], new_pairs={("redis", 5): at(0)})
    assert r.tick(w) == []
    w = window(1, [row(1, "redis", 1, template=6)], new_pairs={("redis", 6): at(1)})
    assert len(r.tick(w)) == 1


def test_learning_start_survives_a_restart() -> None:
    first = Runner(new_template())
    first.minutes(0, 30, lambda m: [row(m, "nextcloud", 1, severity=INFO)])
    second = Runner(new_template(), json.loads(json.dumps(first.state)))
    second.minutes(30, 61, lambda m: [row(m, "nextcloud", 1, severity=INFO)])
    w = window(61, [row(61, "nextcloud", 1, template=9)], new_pairs={("nextcloud", 9): at(61)})
    assert len(second.tick(w)) == 1


def test_a_new_template_without_known_text_still_fires_without_crashing() -> None:
    r = Runner(new_template())
    r.minutes(0, 90, lambda m: [row(m, "nextcloud", 3, severity=INFO)])
    w = window(
        90, [row(90, "nextcloud", 1, template=4242)], new_pairs={("nextcloud", 4242): at(90)}
    )
    (f,) = r.tick(w)
    assert f.summary == "nextcloud: first-seen ERROR template #4242"


# -- silence: tests/detector/test_silence*.py


# -- hostile windows and state ------------------------------------------------


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_an_empty_window_finds_nothing_and_keeps_the_state(name: str) -> None:
    det = DETECTORS[name]()
    found, new_state = det.evaluate(window(0), {}, at(1))
    assert found == [] and new_state == {}


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_rows_of_an_unknown_template_do_not_crash(name: str) -> None:
    det = DETECTORS[name]()
    w = window(0, [row(0, "x", 5, template=999_999)], new_pairs={("x", 999_999): at(0)})
    found, new_state = det.evaluate(w, {}, at(1))
    json.dumps(new_state)
    assert all(f.template_id in (None, 999_999) for f in found)


BAD_STATES: list[Any] = [
    None,
    "garbage",
    42,
    [],
    {},
    {"v": 999, "s": 1},
    {"v": 1, "s": "yesterday"},
    {"v": 1, "s": -5, "t": 3},
    {"v": 1, "s": 29538720, "t": 29538800, "m": float("nan"), "q": 1.0},
    {"v": 1, "s": 29538720, "t": 29538800, "m": 1.0, "q": -1.0},
    {"v": 1, "s": True},
    {"v": 1, "s": 29538720, "o": 29538720},
    {"v": 1, "h": "db-01"},
    {"v": 1, "h": {"db-01": {"t": "x"}}},
    {"v": 1, "h": {"db-01": {"t": 1, "a": 1, "p": 0.5, "r": 1.0, "d": "soon"}}},
    {"v": 1, "c": {"oom_kill": {"db-01": "x"}}},
    {"v": 1, "c": []},
]


@pytest.mark.parametrize("name", sorted(DETECTORS))
@pytest.mark.parametrize("bad", BAD_STATES, ids=[repr(b)[:40] for b in BAD_STATES])
def test_malformed_or_old_state_is_discarded_not_a_crash(name: str, bad: Any) -> None:
    det = DETECTORS[name]()
    state = {"postgres": bad, "": bad, "host:db-01": bad}
    rows = [row(0, "postgres", 10**6), row(0, "postgres", 3, severity=INFO, template=2)]
    w = window(
        0,
        rows,
        templates={1: "Out of memory: Killed process <*>"},
        new_pairs={("postgres", 2): at(0)},
    )
    found, new_state = det.evaluate(w, state, at(1))
    json.dumps(new_state)
    assert all(isinstance(f, Finding) for f in found)
    if name in ("error_spike", "new_template", "silence"):
        assert new_state["postgres"]["v"] == det.state_version


def test_a_million_errors_in_a_minute_on_the_first_tick_does_not_crash_any_detector() -> None:
    rows = [row(0, "postgres", 10**6), row(0, "postgres", 10**6, template=2)]
    for det in build_detectors():
        found, new_state = det.evaluate(window(0, rows), {}, at(1))
        json.dumps(new_state)
        assert found == []  # first sight: learn, don't fire


# -- config and registry ------------------------------------------------------


def test_the_registry_names_every_detector_by_its_own_name() -> None:
    assert sorted(DETECTORS) == [
        "error_spike",
        "host_unreachable",
        "new_template",
        "primitive",
        "silence",
        "unclean_reboot",
    ]
    for name, cls in DETECTORS.items():
        det = cls()
        assert det.name == name and isinstance(det.state_version, int)
        assert det.config.model_config.get("frozen") is True
        assert det.config.model_config.get("extra") == "forbid"


def test_build_detectors_passes_the_learning_period_down_unless_overridden() -> None:
    cfg = DetectorsConfig.model_validate(
        {
            "learning_period_hours": 2,
            "error_spike": {"k_sigma": 5},
            "new_template": {"learning_period_hours": 3},
        }
    )
    spike_, new_, *_ = build_detectors(cfg)
    assert spike_.config.learning_period_hours == 2 and spike_.config.k_sigma == 5
    assert new_.config.learning_period_hours == 3


def test_a_disabled_detector_is_not_built() -> None:
    cfg = DetectorsConfig.model_validate({"silence": {"enabled": False}})
    assert [d.name for d in build_detectors(cfg)] == [
        "error_spike",
        "new_template",
        "primitive",
        "unclean_reboot",
        "host_unreachable",
    ]


def test_build_detectors_reads_a_section_that_mounts_only_the_learning_period() -> None:
    section = DetectorsConfig.model_validate({"learning_period_hours": 6.0})  # no detector keys
    dets = build_detectors(section)
    assert [d.name for d in dets] == list(DETECTORS)
    assert dets[0].config.learning_period_hours == 6.0
    assert dets[1].config.learning_period_hours == 6.0


def test_default_config_builds_every_registered_detector() -> None:
    assert [d.name for d in build_detectors()] == list(DETECTORS)
    assert DetectorsConfig().learning_period_hours == 24


@pytest.mark.parametrize(
    ("section", "value", "field"),
    [
        ("error_spike", {"k_sigma": 0}, "k_sigma"),
        ("error_spike", {"min_count": -1}, "min_count"),
        ("error_spike", {"min_severity": "loud"}, "min_severity"),
        ("error_spike", {"kappa": 3}, "kappa"),
        ("silence", {"half_life_hours": -1}, "half_life_hours"),
        ("primitive", {"cooldown_minutes": 0}, "cooldown_minutes"),
        ("primitive", {"disabled": ["nope"]}, "disabled"),
        ("primitive", {"extra": [{"name": "x", "pattern": "("}]}, "pattern"),
        ("primitive", {"extra": [{"name": "x", "pattern": "a*"}]}, "pattern"),
        ("primitive", {"extra": [{"name": "x", "pattern": "a", "summary": "{nope}"}]}, "summary"),
        ("primitive", {"extra": [{"name": "Bad Name", "pattern": "a"}]}, "name"),
    ],
)
def test_a_bad_config_value_is_refused_naming_the_field(
    section: str, value: Any, field: str
) -> None:
    with pytest.raises(ValidationError) as e:
        DetectorsConfig.model_validate({section: value})
    assert field in str(e.value)


def test_severity_names_are_accepted_in_config_and_dumped_as_names() -> None:
    cfg = ErrorSpikeConfig.model_validate({"min_severity": "warn"})
    assert cfg.min_severity is Severity.WARNING
    assert cfg.model_dump()["min_severity"] == "warning"


def test_configs_are_frozen() -> None:
    cfg = SilenceConfig()
    with pytest.raises(ValidationError):
        cfg.min_silent_minutes = 3  # type: ignore[misc]


def test_primitive_and_new_template_configs_validate_from_yaml_like_dicts() -> None:
    p = PrimitiveConfig.model_validate(
        {
            "cooldown_minutes": 5,
            "disabled": ["unit_failed"],
            "extra": [
                {"name": "raid_degraded", "pattern": r"md\S*: .*degraded", "severity": "critical"}
            ],
        }
    )
    det = PrimitiveDetector(p)
    assert det.library[0].name == "raid_degraded"
    assert "unit_failed" not in {x.name for x in det.library}
    assert (
        NewTemplateConfig.model_validate({"min_severity": "critical"}).min_severity
        == Severity.CRITICAL
    )
