"""Routing, quiet hours, rate limits, silences and digest times: pure functions of `now`."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from notify_fakes import T0, make_incident
from pydantic import ValidationError

from detector.incidents.model import RootRef
from logvigil.core.events import Severity
from notify.config import NotifyPolicy, QuietHoursConfig, RouteConfig
from notify.policy import Reason, Silence, decide, digest_period, in_quiet_hours, route, silenced_by
from notify.silences import SilenceError, parse_duration

CHANNELS = ["console", "discord", "email"]


def test_without_routes_every_channel_gets_warnings_and_worse() -> None:
    assert route(make_incident(severity=Severity.WARNING), [], CHANNELS) == CHANNELS
    assert route(make_incident(severity=Severity.NOTICE), [], CHANNELS) == []


def test_the_first_matching_route_wins_by_service_host_or_severity() -> None:
    routes = [
        RouteConfig(service="postgres", channels=["discord", "email"], min_severity="critical"),
        RouteConfig(host="web-*", channels=["email"]),
        RouteConfig(channels=["console"], min_severity="error"),
    ]
    assert route(make_incident(), routes, CHANNELS) == ["discord", "email"]
    warn = make_incident(severity=Severity.ERROR)
    assert route(warn, routes, CHANNELS) == ["email"]  # postgres route needs critical
    other = make_incident(services=("redis",), hosts=("cache-01",), severity=Severity.WARNING)
    assert route(other, routes, CHANNELS) == []
    assert route(make_incident(), routes, ["console", "email"]) == ["email"]  # only configured


def test_quiet_hours_span_midnight_in_the_configured_time_zone() -> None:
    q = QuietHoursConfig(start="22:00", end="07:00", timezone="Europe/Berlin")
    assert in_quiet_hours(datetime(2026, 3, 4, 21, 30, tzinfo=UTC), q)  # 22:30 in Berlin
    assert in_quiet_hours(datetime(2026, 3, 4, 5, 59, tzinfo=UTC), q)  # 06:59
    assert not in_quiet_hours(datetime(2026, 3, 4, 6, 0, tzinfo=UTC), q)  # 07:00
    assert not in_quiet_hours(datetime(2026, 3, 4, 12, 0, tzinfo=UTC), q)


def test_quiet_hours_fold_all_but_critical_incidents() -> None:
    policy = NotifyPolicy(quiet_hours={"discord": QuietHoursConfig(start="00:00", end="23:59")})
    night = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
    err = make_incident(severity=Severity.ERROR)
    d = decide(err, "discord", night, policy, silence=None, sent_in_window=0)
    assert d.reason is Reason.QUIET_HOURS and "quiet hours" in d.detail
    crit = decide(make_incident(), "discord", night, policy, silence=None, sent_in_window=0)
    assert crit.send
    assert decide(err, "email", night, policy, silence=None, sent_in_window=0).send


def test_the_rate_limit_folds_what_exceeds_it() -> None:
    policy = NotifyPolicy.model_validate({"rate_limit": {"discord": {"max_messages": 2}}})
    inc = make_incident()
    assert decide(inc, "discord", T0, policy, silence=None, sent_in_window=1).send
    d = decide(inc, "discord", T0, policy, silence=None, sent_in_window=2)
    assert d.reason is Reason.RATE_LIMITED


def _silence(**kw) -> Silence:
    base = dict(
        id=1,
        service=None,
        host=None,
        reason="upgrade",
        created_at=T0,
        expires_at=T0 + timedelta(hours=2),
    )
    return Silence(**{**base, **kw})


def test_a_silence_covers_the_incident_rooted_at_its_service_or_host_until_it_expires() -> None:
    inc = make_incident()  # rooted at postgres on db-01
    assert silenced_by(inc, [_silence(service="postgres")], T0 + timedelta(minutes=5))
    assert silenced_by(inc, [_silence(host="db-01")], T0)
    assert silenced_by(inc, [_silence(service="postgres", host="db-01")], T0)
    assert not silenced_by(inc, [_silence(service="postgres", host="db-02")], T0)
    assert not silenced_by(inc, [_silence(service="nginx")], T0)
    assert not silenced_by(inc, [_silence(service="postgres")], T0 + timedelta(hours=2))
    removed = _silence(service="postgres", removed_at=T0 + timedelta(minutes=1))
    assert not silenced_by(inc, [removed], T0 + timedelta(minutes=2))


def test_without_a_root_a_silence_must_cover_every_service() -> None:
    inc = make_incident(root=RootRef(None, None), services=("nginx",), hosts=("web-01",))
    assert silenced_by(inc, [_silence(service="nginx")], T0)
    two = make_incident(root=None, services=("nginx", "php"), hosts=("web-01",))
    assert not silenced_by(two, [_silence(service="nginx")], T0)
    assert silenced_by(two, [_silence(host="web-01")], T0)


def test_a_silenced_incident_is_not_sent_whatever_else_applies() -> None:
    d = decide(
        make_incident(),
        "discord",
        T0,
        NotifyPolicy(),
        silence=_silence(service="x"),
        sent_in_window=0,
    )
    assert d.reason is Reason.SILENCED


def test_the_digest_period_ends_at_the_last_configured_time_in_its_zone() -> None:
    start, end = digest_period(datetime(2026, 3, 4, 9, 0, tzinfo=UTC), time(9, 30), "UTC")
    assert end == datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
    assert start == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    _, end = digest_period(datetime(2026, 3, 4, 9, 30, tzinfo=UTC), time(9, 30), "UTC")
    assert end == datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    # Berlin switches to summer time on 2026-03-29: that day is 23 hours long.
    start, end = digest_period(
        datetime(2026, 3, 29, 12, 0, tzinfo=UTC), time(9, 30), "Europe/Berlin"
    )
    assert end - start == timedelta(hours=23)


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ValidationError, match="HH:MM"):
        QuietHoursConfig(start="late", end="07:00")
    with pytest.raises(ValidationError, match="unknown time zone"):
        QuietHoursConfig(start="22:00", end="07:00", timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="extra"):
        NotifyPolicy.model_validate({"routes": [{"channels": ["discord"], "sevrity": "x"}]})
    assert NotifyPolicy.model_validate({"digest": {"at": 570}}).digest.at == time(9, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", timedelta(hours=2)),
        ("30m", timedelta(minutes=30)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
    ],
)
def test_silence_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "2x", "-1h", "0m", "1000d"])
def test_a_bad_silence_duration_names_the_option(text: str) -> None:
    with pytest.raises(SilenceError, match="--for"):
        parse_duration(text)
