"""What gets sent: incident changes, silences, folds, the digest, `--post` and `notify test`."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from notify_fakes import T0, TOKEN, FakeDiscord, make_incident, make_report
from pydantic import SecretStr
from sqlalchemy import select
from typer.testing import CliRunner

from detector.incidents import repository as repo
from detector.incidents.manager import ChangeKind, IncidentChange
from investigate.model import Report
from logvigil.core.events import Severity
from logvigil.core.timeutil import wall_clock
from logvigil.store.schema import ChannelState, IncidentRow, OutboxRow
from notify import ConsoleNotifier, build_notifiers, configured_channels
from notify import silences as silences_db
from notify.config import NotifyConfig
from notify.discord import DiscordConfig, DiscordNotifier
from notify.outbox import Sender
from notify.service import (
    maybe_enqueue_digest,
    on_incident_changes,
    on_report,
    post_incident,
    send_test,
)


def _cfg(discord: FakeDiscord | None = None, **policy) -> NotifyConfig:
    """The `notify:` section: Discord only (when given), and the policy fields `policy`."""
    channels = {"discord": {"webhook_url": discord.url}} if discord else {}
    return NotifyConfig.model_validate({"console": False, **channels, **policy})


def _rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(OutboxRow.__table__).order_by(OutboxRow.id)).all()


def _store(engine, incident) -> int:
    with engine.begin() as conn:
        new_id = repo.insert_incident(conn, incident)
        repo.insert_findings(conn, new_id, incident.findings)
    return new_id


def test_console_is_the_default_channel_when_nothing_is_configured() -> None:
    assert configured_channels(NotifyConfig(console=False)) == ["console"]
    cfg = NotifyConfig(
        console=False,
        discord=DiscordConfig(webhook_url=SecretStr("https://discord.com/api/webhooks/1/t")),
    )
    assert configured_channels(cfg) == ["discord"]
    assert list(build_notifiers(NotifyConfig())) == ["console"]


def test_an_opened_incident_is_enqueued_once_per_channel_and_sent(
    engine, discord: FakeDiscord
) -> None:
    cfg = _cfg(discord)
    change = IncidentChange(ChangeKind.OPENED, make_incident())
    assert on_incident_changes(engine, [change], T0, cfg) == 1
    assert on_incident_changes(engine, [change], T0, cfg) == 0  # a repeated tick: no-op
    Sender(engine, build_notifiers(cfg)).drain(T0)
    assert discord.deliveries == 1
    resolved = IncidentChange(
        ChangeKind.RESOLVED, make_incident(resolved_at=T0 + timedelta(minutes=40))
    )
    on_incident_changes(engine, [resolved], T0 + timedelta(minutes=40), cfg)
    Sender(engine, build_notifiers(cfg)).drain(T0 + timedelta(minutes=40))
    assert discord.deliveries == 2
    assert discord.requests[1].json["embeds"][0]["title"].startswith("Resolved: ")


def test_a_silenced_incident_is_recorded_but_not_notified(engine, discord: FakeDiscord) -> None:
    cfg = _cfg(discord)
    with engine.begin() as conn:
        silences_db.add(
            conn,
            service="postgres",
            host=None,
            duration=timedelta(hours=2),
            reason="upgrade",
            now=T0,
        )
    on_incident_changes(engine, [IncidentChange(ChangeKind.OPENED, make_incident())], T0, cfg)
    on_incident_changes(
        engine,
        [IncidentChange(ChangeKind.RESOLVED, make_incident(resolved_at=T0))],
        T0 + timedelta(minutes=1),
        cfg,
    )
    Sender(engine, build_notifiers(cfg)).drain(T0 + timedelta(minutes=1))
    assert discord.deliveries == 0
    assert [r.status for r in _rows(engine)] == ["silenced", "silenced"]
    assert "silence 1: upgrade" in _rows(engine)[0].last_error


def test_what_exceeds_the_rate_limit_is_folded_into_the_next_digest(
    engine, discord: FakeDiscord
) -> None:
    cfg = _cfg(discord, rate_limit={"discord": {"max_messages": 2, "per_minutes": 60}})
    ids = []
    for i in range(4):
        inc = make_incident(title=f"incident {i}", opened_at=T0 + timedelta(minutes=i))
        ids.append(_store(engine, inc))
        inc = make_incident(ids[-1], title=f"incident {i}", opened_at=T0 + timedelta(minutes=i))
        on_incident_changes(
            engine, [IncidentChange(ChangeKind.OPENED, inc)], T0 + timedelta(minutes=i), cfg
        )
    assert [r.status for r in _rows(engine)] == ["pending", "pending", "folded", "folded"]
    Sender(engine, build_notifiers(cfg)).drain(T0 + timedelta(minutes=5))
    assert discord.deliveries == 2

    next_day = datetime(2026, 3, 5, 9, 31, tzinfo=UTC)
    assert maybe_enqueue_digest(engine, next_day, cfg) == 1
    Sender(engine, build_notifiers(cfg)).drain(next_day)
    digest = discord.requests[-1].json["embeds"][0]
    assert digest["title"] == "LogVigil digest: 4 incidents on 2 hosts"
    fields = {f["name"]: f["value"] for f in digest["fields"]}
    assert set(fields) == {"db-01", "web-01"}
    assert "rate limited" in fields["db-01"]


def test_quiet_hours_fold_an_incident_into_the_digest(engine, discord: FakeDiscord) -> None:
    cfg = _cfg(discord, quiet_hours={"discord": {"start": "22:00", "end": "07:00"}})
    night = datetime(2026, 3, 4, 23, 0, tzinfo=UTC)
    inc = make_incident(severity=make_incident().severity.__class__.ERROR, opened_at=night)
    on_incident_changes(engine, [IncidentChange(ChangeKind.OPENED, inc)], night, cfg)
    assert _rows(engine)[0].status == "folded"
    assert "quiet_hours" in _rows(engine)[0].last_error


def test_quiet_hours_follow_the_wall_clock_in_the_channels_time_zone(
    engine, discord: FakeDiscord
) -> None:
    cfg = _cfg(
        discord,
        quiet_hours={"discord": {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"}},
    )
    sender = Sender(engine, build_notifiers(cfg))
    # The daemon reads the wall clock once per tick and passes it down.
    with freeze_time("2026-03-04 21:30:00+00:00") as frozen:  # 22:30 in Berlin
        night = make_incident(1, severity=Severity.ERROR, opened_at=wall_clock())
        on_incident_changes(engine, [IncidentChange(ChangeKind.OPENED, night)], wall_clock(), cfg)
        sender.drain(wall_clock())
        frozen.move_to("2026-03-05 06:00:00+00:00")  # 07:00 in Berlin: quiet hours are over
        day = make_incident(2, severity=Severity.ERROR, opened_at=wall_clock())
        on_incident_changes(engine, [IncidentChange(ChangeKind.OPENED, day)], wall_clock(), cfg)
        sender.drain(wall_clock())
    assert [(r.incident_id, r.status) for r in _rows(engine)] == [(1, "folded"), (2, "sent")]
    assert discord.deliveries == 1


def test_the_digest_goes_out_when_the_wall_clock_reaches_its_local_time(
    engine, discord: FakeDiscord
) -> None:
    cfg = _cfg(discord, digest={"at": "09:30", "timezone": "Europe/Berlin"})
    _store(engine, make_incident(opened_at=datetime(2026, 3, 4, 12, 0, tzinfo=UTC)))
    sender = Sender(engine, build_notifiers(cfg))
    # The daemon calls maybe_enqueue_digest on every tick with the wall clock's time.
    with freeze_time("2026-03-05 08:29:00+00:00") as frozen:  # 09:29 in Berlin
        assert maybe_enqueue_digest(engine, wall_clock(), cfg) == 0  # yesterday's was clean
        frozen.tick(timedelta(minutes=1))  # 09:30 in Berlin
        assert maybe_enqueue_digest(engine, wall_clock(), cfg) == 1
        frozen.tick(timedelta(minutes=1))
        assert maybe_enqueue_digest(engine, wall_clock(), cfg) == 0  # once per period
        sender.drain(wall_clock())
    assert discord.deliveries == 1
    embed = discord.requests[0].json["embeds"][0]
    assert embed["description"] == "From 2026-03-04 08:30 to 2026-03-05 08:30 (UTC)."


def test_the_digest_is_skipped_on_a_clean_day(engine, discord: FakeDiscord) -> None:
    cfg = _cfg(discord)
    old = make_incident(opened_at=T0 - timedelta(days=3), resolved_at=T0 - timedelta(days=3))
    _store(engine, old)
    for hour in range(0, 48):
        maybe_enqueue_digest(engine, T0 + timedelta(hours=hour), cfg)
    Sender(engine, build_notifiers(cfg)).drain(T0 + timedelta(days=2))
    assert _rows(engine) == []
    assert discord.requests == []


def test_the_digest_is_sent_once_per_period_and_lists_still_open_incidents(
    engine, discord: FakeDiscord
) -> None:
    cfg = _cfg(discord, digest={"at": "09:30", "timezone": "UTC"})
    _store(engine, make_incident(opened_at=T0 - timedelta(days=2)))  # still open
    now = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    assert maybe_enqueue_digest(engine, now, cfg) == 1
    assert maybe_enqueue_digest(engine, now + timedelta(minutes=1), cfg) == 0
    Sender(engine, build_notifiers(cfg)).drain(now)
    assert discord.deliveries == 1
    embed = discord.requests[0].json["embeds"][0]
    assert embed["title"] == "LogVigil digest: 1 incident on 2 hosts"
    assert embed["description"] == "From 2026-03-03 09:30 to 2026-03-04 09:30 (UTC)."
    assert embed["fields"][0]["value"].endswith("nginx degraded - open")


def _report(incident_id: int) -> Report:
    return make_report(incident_id, certain=("postgres was OOM-killed @everyone",))


def _with_report(engine) -> int:
    incident_id = _store(engine, make_incident())
    with engine.begin() as conn:
        conn.execute(
            IncidentRow.__table__.update()
            .where(IncidentRow.id == incident_id)
            .values(report=_report(incident_id).to_json())
        )
    return incident_id


def test_post_delivers_the_report_with_the_markdown_attached(engine, discord: FakeDiscord) -> None:
    incident_id = _with_report(engine)
    discord.script = ["429"]
    with freeze_time(T0) as frozen:  # the 429's wait passes on the frozen clock
        result = post_incident(
            engine,
            incident_id,
            _cfg(discord),
            T0,
            sleep=lambda s: frozen.tick(timedelta(seconds=s)),
        )
    assert result.ok, result
    assert discord.deliveries == 1
    rec = discord.requests[-1]
    assert rec.files["files[0]"].decode().startswith(f"## Incident {incident_id}")
    fields = {f["name"]: f["value"] for f in rec.json["embeds"][0]["fields"]}
    assert fields["Confidence"] == "high (0.90)"
    again = post_incident(engine, incident_id, _cfg(discord), T0 + timedelta(minutes=1))
    assert again.ok and discord.deliveries == 1  # the same report is not posted twice


def test_post_fails_clearly_for_a_deleted_webhook_or_a_missing_report(
    engine, discord: FakeDiscord
) -> None:
    incident_id = _with_report(engine)
    discord.script = ["404"]
    result = post_incident(engine, incident_id, _cfg(discord), T0)
    assert not result.ok
    assert "failed for good" in result.channels[0].detail and "404" in result.channels[0].detail
    bare = _store(engine, make_incident())
    missing = post_incident(engine, bare, _cfg(discord), T0)
    assert not missing.ok and "has no report yet" in missing.error
    assert post_incident(engine, 999, _cfg(discord), T0).error == "no incident 999"


def test_a_report_ready_message_follows_the_incident_to_its_channels(
    engine, discord: FakeDiscord
) -> None:
    cfg = _cfg(discord)
    incident_id = _with_report(engine)
    inc = make_incident(incident_id)
    on_incident_changes(engine, [IncidentChange(ChangeKind.OPENED, inc)], T0, cfg)
    assert on_report(engine, incident_id, _report(incident_id), T0, cfg) == 1
    Sender(engine, build_notifiers(cfg)).drain(T0)
    assert discord.deliveries == 2
    assert "@everyone" not in discord.requests[1].files["files[0]"].decode()


def test_notify_test_reports_each_channel_and_records_its_health(
    engine, discord: FakeDiscord
) -> None:
    out = io.StringIO()
    notifiers = {
        "console": ConsoleNotifier(stream=out),
        "discord": DiscordNotifier(discord.url),
    }
    discord.script = ["404"]
    results = send_test(_cfg(discord), T0, engine=engine, notifiers=notifiers)
    assert [(r.channel, r.ok) for r in results] == [("console", True), ("discord", False)]
    assert "LogVigil test message" in out.getvalue()
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(ChannelState.broken).where(ChannelState.channel == "discord")
            ).scalar()
            is True
        )
    results = send_test(_cfg(discord), T0, engine=engine, notifiers=notifiers)
    assert all(r.ok for r in results)
    with engine.connect() as conn:
        assert not any(conn.execute(select(ChannelState.broken)).scalars())


@pytest.fixture
def cli():
    import typer

    from logvigil.cli.notify import notify_app, silence_app

    app = typer.Typer()
    app.add_typer(silence_app, name="silence")
    app.add_typer(notify_app, name="notify")
    return app


def test_the_silence_commands_add_list_and_remove(cli, tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    runner = CliRunner()
    r = runner.invoke(
        cli,
        [
            "silence",
            "add",
            "--service",
            "postgres",
            "--for",
            "2h",
            "--reason",
            "upgrade",
            "--db",
            db,
        ],
    )
    assert r.exit_code == 0, r.output
    assert "silence 1: postgres muted until" in r.output
    r = runner.invoke(cli, ["silence", "list", "--json", "--db", db])
    assert json.loads(r.output)["service"] == "postgres"
    assert runner.invoke(cli, ["silence", "remove", "1", "--db", db]).exit_code == 0
    assert "no active silences" in runner.invoke(cli, ["silence", "list", "--db", db]).output
    r = runner.invoke(cli, ["silence", "remove", "1", "--db", db])
    assert r.exit_code == 2 and "no active silence with id 1" in r.output


def test_a_silence_from_the_cli_expires_on_the_wall_clock(cli, tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    runner = CliRunner()
    with freeze_time("2026-03-04 10:00:00+00:00") as frozen:
        r = runner.invoke(
            cli,
            ["silence", "add", "--host", "db-01", "--for", "2h", "--reason", "reboot", "--db", db],
        )
        assert r.exit_code == 0, r.output
        assert "muted until 2026-03-04T12:00:00Z" in r.output
        frozen.move_to("2026-03-04 11:59:59+00:00")
        r = runner.invoke(cli, ["silence", "list", "--json", "--db", db])
        assert json.loads(r.output)["expires_at"] == "2026-03-04T12:00:00Z"
        frozen.move_to("2026-03-04 12:00:00+00:00")
        assert "no active silences" in runner.invoke(cli, ["silence", "list", "--db", db]).output
        r = runner.invoke(cli, ["silence", "remove", "1", "--db", db])
        assert r.exit_code == 2 and "no active silence with id 1" in r.output
        r = runner.invoke(cli, ["silence", "list", "--all", "--json", "--db", db])
        assert json.loads(r.output)["removed_at"] is None  # it expired; nobody removed it


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--for", "2h", "--reason", "x"], "needs --service or --host"),
        (["--service", "s", "--for", "soon", "--reason", "x"], "--for: expected a duration"),
        (["--service", "s", "--for", "2h", "--reason", " "], "--reason must not be empty"),
    ],
)
def test_a_bad_silence_is_refused_naming_the_field(cli, tmp_path, args, message) -> None:
    r = CliRunner().invoke(cli, ["silence", "add", *args, "--db", f"sqlite:///{tmp_path}/s.db"])
    assert r.exit_code == 2
    assert message in r.output and "Traceback" not in r.output


def test_notify_test_prints_no_secret(cli, tmp_path, monkeypatch, discord: FakeDiscord) -> None:
    monkeypatch.setenv("LOGVIGIL_DISCORD_WEBHOOK_URL", discord.url)
    discord.script = ["401"]
    r = CliRunner().invoke(cli, ["notify", "test", "--db", f"sqlite:///{tmp_path}/n.db"])
    assert r.exit_code == 1
    assert "discord: FAILED" in r.output and "401" in r.output
    assert TOKEN not in r.output
    r = CliRunner().invoke(cli, ["notify", "status", "--db", f"sqlite:///{tmp_path}/n.db"])
    assert "discord: BROKEN" in r.output and TOKEN not in r.output
