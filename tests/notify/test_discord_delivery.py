"""Discord through the outbox, against a local server that answers as Discord does."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from freezegun import freeze_time
from notify_fakes import T0, TOKEN, FakeDiscord, make_incident
from sqlalchemy import select

from logvigil.store.schema import ChannelState, OutboxRow
from notify.base import Notification, NotificationKind, NotifyError, Section
from notify.discord import DiscordNotifier
from notify.discord.render import (
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    FIELD_NAME_MAX,
    FIELD_VALUE_MAX,
    FIELDS_MAX,
    FOOTER_MAX,
    TITLE_MAX,
    embed_size,
    render,
)
from notify.messages import incident_opened
from notify.outbox import (
    BROKEN_PROBE_INTERVAL,
    OutboxStatus,
    Sender,
    channel_status,
    enqueue,
)


def _enqueue(engine, key: str = "opened:42:discord", n: Notification | None = None) -> int:
    n = n or incident_opened(make_incident(), T0)
    with engine.begin() as conn:
        enqueue(conn, "discord", n.kind.value, key, n.to_json(), T0, incident_id=42)
        return conn.execute(select(OutboxRow.id).where(OutboxRow.idempotency_key == key)).scalar()


def _row(engine, row_id: int) -> OutboxRow:
    with engine.connect() as conn:
        return conn.execute(select(OutboxRow.__table__).where(OutboxRow.id == row_id)).one()


def test_a_message_is_delivered_exactly_once_through_a_429(engine, discord: FakeDiscord) -> None:
    row_id = _enqueue(engine)
    discord.script = ["429"]
    sender = Sender(engine, {"discord": DiscordNotifier(discord.url)})

    first = sender.drain(T0)
    assert first.count(OutboxStatus.PENDING) == 1
    row = _row(engine, row_id)
    assert row.status == "pending"
    assert row.next_attempt_at == T0 + timedelta(seconds=0.2)  # Discord's retry_after
    assert sender.drain(T0 + timedelta(milliseconds=100)).outcomes == []  # not due yet

    second = sender.drain(T0 + timedelta(seconds=1))
    assert second.count(OutboxStatus.SENT) == 1
    assert sender.drain(T0 + timedelta(hours=1)).outcomes == []
    assert discord.deliveries == 1
    assert len(discord.requests) == 2
    row = _row(engine, row_id)
    assert row.status == "sent" and row.attempts == 2
    assert row.payload["receipt"].startswith("9000")  # the message id from ?wait=true


def test_every_post_asks_discord_to_wait_for_the_message(engine, discord: FakeDiscord) -> None:
    _enqueue(engine)
    Sender(engine, {"discord": DiscordNotifier(discord.url)}).drain(T0)
    assert discord.requests[0].query["wait"] == ["true"]


def test_a_message_waits_out_a_429_on_the_wall_clock_and_is_delivered_once(
    engine, discord: FakeDiscord
) -> None:
    row_id = _enqueue(engine)
    discord.script = ["429"]
    with freeze_time(T0) as frozen:
        sender = Sender(engine, {"discord": DiscordNotifier(discord.url)})  # the wall clock
        outcomes = sender.deliver([row_id], sleep=lambda s: frozen.tick(timedelta(seconds=s)))
        assert outcomes[row_id].status is OutboxStatus.SENT
        assert _row(engine, row_id).sent_at == T0 + timedelta(seconds=0.2)  # Discord's retry_after
    assert discord.deliveries == 1 and len(discord.requests) == 2


def test_a_429_then_a_500_then_success_is_one_delivery_and_no_crash(
    engine, discord: FakeDiscord
) -> None:
    row_id = _enqueue(engine)
    discord.script = ["429", "500"]  # discord-webhook's execute() raises AttributeError here
    sender = Sender(engine, {"discord": DiscordNotifier(discord.url)})
    for minute in range(3):
        result = sender.drain(T0 + timedelta(minutes=minute))
        assert result.error is None
    assert discord.deliveries == 1
    assert _row(engine, row_id).status == "sent"


def test_an_html_error_page_is_a_transient_failure(discord: FakeDiscord) -> None:
    discord.script = ["502html"]  # not JSON: discord-webhook's execute() raises JSONDecodeError
    with pytest.raises(NotifyError) as info:
        DiscordNotifier(discord.url).send(incident_opened(make_incident(), T0))
    assert not info.value.permanent and not info.value.in_doubt
    assert "502" in info.value.message


def test_the_request_carries_exactly_the_rendered_payload(discord: FakeDiscord) -> None:
    n = incident_opened(make_incident(), T0)
    DiscordNotifier(discord.url, timeout=3).send(n)
    rec = discord.requests[0]
    assert rec.headers["Content-Type"] == "application/json"
    assert rec.json == render(n).payload  # no attribute of the library (`timeout`, ...) leaks in
    assert rec.query == {"wait": ["true"]}


def test_a_query_of_the_webhook_url_is_kept_beside_wait(discord: FakeDiscord) -> None:
    DiscordNotifier(discord.url + "?thread_id=42").send(incident_opened(make_incident(), T0))
    assert discord.requests[0].query == {"thread_id": ["42"], "wait": ["true"]}


def test_a_204_answer_is_a_delivery_without_a_message_id(discord: FakeDiscord) -> None:
    discord.script = ["204"]
    receipt = DiscordNotifier(discord.url).send(incident_opened(make_incident(), T0))
    assert receipt is None
    assert discord.deliveries == 1


def test_a_channel_down_for_30_minutes_gets_the_message_once_when_it_is_back(
    engine, discord: FakeDiscord
) -> None:
    row_id = _enqueue(engine)
    discord.script = ["503"] * 1000
    sender = Sender(engine, {"discord": DiscordNotifier(discord.url)})
    for minute in range(30):  # the daemon drains every tick
        sender.drain(T0 + timedelta(minutes=minute))
    assert discord.deliveries == 0
    row = _row(engine, row_id)
    assert row.status == "pending" and "503" in row.last_error
    attempts_during_outage = len(discord.requests)
    assert 3 <= attempts_during_outage < 30  # backed off, not hammered

    discord.script = []
    for minute in range(30, 45):
        sender.drain(T0 + timedelta(minutes=minute))
    assert discord.deliveries == 1
    assert _row(engine, row_id).status == "sent"


def test_a_deleted_webhook_fails_for_good_and_marks_the_channel_broken(
    engine, discord: FakeDiscord
) -> None:
    first = _enqueue(engine, "a")
    second = _enqueue(engine, "b")
    discord.script = ["404"]
    sender = Sender(engine, {"discord": DiscordNotifier(discord.url)})
    sender.drain(T0)
    assert _row(engine, first).status == "failed"
    assert _row(engine, second).status == "pending"  # kept for when the operator fixes it
    assert len(discord.requests) == 1  # a broken channel is not hammered
    with engine.connect() as conn:
        state = conn.execute(select(ChannelState.__table__)).one()
        status = {s.channel: s for s in channel_status(conn, ["discord"])}
    assert state.broken and "404" in state.reason
    assert status["discord"].broken and status["discord"].failed == 1

    sender.drain(T0 + timedelta(minutes=1))
    assert len(discord.requests) == 1
    sender.drain(T0 + BROKEN_PROBE_INTERVAL + timedelta(seconds=1))  # probe: the webhook is back
    assert _row(engine, second).status == "sent"
    with engine.connect() as conn:
        assert conn.execute(select(ChannelState.broken)).scalar() is False


def test_a_revoked_token_is_permanent(discord: FakeDiscord) -> None:
    discord.script = ["401"]
    with pytest.raises(NotifyError) as info:
        DiscordNotifier(discord.url).send(incident_opened(make_incident(), T0))
    assert info.value.permanent and "401" in info.value.message


def test_a_server_error_is_transient(discord: FakeDiscord) -> None:
    discord.script = ["500"]
    with pytest.raises(NotifyError) as info:
        DiscordNotifier(discord.url).send(incident_opened(make_incident(), T0))
    assert not info.value.permanent and not info.value.in_doubt


def test_a_slow_answer_times_out_and_is_in_doubt(discord: FakeDiscord) -> None:
    discord.script = ["hold"]
    with pytest.raises(NotifyError) as info:
        DiscordNotifier(discord.url, timeout=0.3).send(incident_opened(make_incident(), T0))
    assert info.value.in_doubt and "timed out" in info.value.message


def test_a_closed_port_is_transient_and_not_in_doubt(discord: FakeDiscord) -> None:
    url = discord.url
    discord.stop()
    with pytest.raises(NotifyError) as info:
        DiscordNotifier(url, timeout=2).send(incident_opened(make_incident(), T0))
    assert not info.value.permanent and not info.value.in_doubt


def test_no_mention_in_a_log_line_can_ping_anyone(engine, discord: FakeDiscord) -> None:
    hostile = "@everyone @here <@123456> <@&987654> <#111> restart me"
    incident = make_incident(title=f"nginx {hostile}", summary=hostile)
    _enqueue(engine, n=incident_opened(incident, T0))
    Sender(engine, {"discord": DiscordNotifier(discord.url)}).drain(T0)
    payload = discord.requests[0].json
    assert payload["allowed_mentions"] == {"parse": []}
    text = json.dumps(payload, ensure_ascii=False)
    for mention in ("@everyone", "@here", "<@123456>", "<@&987654>", "<#111>"):
        assert mention not in text
    assert "@\u200beveryone" in payload["embeds"][0]["title"]


def test_an_oversized_report_is_cut_to_discords_limits_and_attached_in_full(
    discord: FakeDiscord,
) -> None:
    markdown = "## Incident 42\n" + "\n".join(
        f"- evidence line {i} " + "x" * 80 for i in range(3000)
    )
    n = Notification(
        kind=NotificationKind.REPORT,
        title="T" * 1000,
        summary="S" * 10_000,
        incident_id=42,
        sections=tuple(Section("N" * 400, "V" * 5000) for _ in range(40)),
        markdown=markdown,
        attachment_name="incident-42.md",
    )
    DiscordNotifier(discord.url).send(n)
    rec = discord.requests[0]
    assert rec.headers["Content-Type"].startswith("multipart/form-data")
    embed = rec.json["embeds"][0]
    assert len(embed["title"]) <= TITLE_MAX
    assert len(embed["description"]) <= DESCRIPTION_MAX
    assert len(embed["fields"]) <= FIELDS_MAX
    assert all(len(f["name"]) <= FIELD_NAME_MAX for f in embed["fields"])
    assert all(len(f["value"]) <= FIELD_VALUE_MAX for f in embed["fields"])
    assert len(embed["footer"]["text"]) <= FOOTER_MAX
    assert embed_size(embed) <= EMBED_TOTAL_MAX
    assert embed["title"].endswith("…")
    assert rec.json["attachments"] == [{"id": 0, "filename": "incident-42.md"}]
    assert rec.files["files[0]"].decode() == markdown


def test_the_incident_embed_carries_title_colour_root_cause_and_replay_command(
    discord: FakeDiscord,
) -> None:
    DiscordNotifier(discord.url).send(incident_opened(make_incident(), T0))
    embed = discord.requests[0].json["embeds"][0]
    assert embed["title"] == "postgres OOM-killed on db-01 -> nextcloud, nginx degraded"
    assert embed["color"] == 0xE74C3C
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Suspected root cause"] == "postgres on db-01"
    assert fields["Blast radius"] == "nextcloud, nginx"
    assert "OOM" in fields["Evidence"] or "Killed process" in fields["Evidence"]
    assert fields["Replay"] == "`investigate --incident 42`"


def test_the_webhook_url_is_in_no_error_log_row_or_state(
    engine, discord: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    for key in ("a", "b", "c"):
        _enqueue(engine, key)
    discord.script = ["500", "429", "404"]
    sender = Sender(engine, {"discord": DiscordNotifier(discord.url, timeout=0.5)})
    sender.drain(T0)
    errors = []
    for url in (discord.url, "ftp://x/" + TOKEN, "https://[::1/" + TOKEN):
        try:
            DiscordNotifier(url).send(incident_opened(make_incident(), T0))
        except NotifyError as exc:
            errors.append(str(exc))
    discord.stop()
    try:
        DiscordNotifier(discord.url, timeout=0.5).send(incident_opened(make_incident(), T0))
    except NotifyError as exc:
        errors.append(str(exc))
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(OutboxRow.__table__))]
        states = [dict(r._mapping) for r in conn.execute(select(ChannelState.__table__))]
    everything = "\n".join(
        [caplog.text, *errors, json.dumps(rows, default=str), json.dumps(states, default=str)]
    )
    assert errors and all(errors)
    assert TOKEN not in everything
    assert "1234567890/" not in everything
    assert TOKEN not in repr(DiscordNotifier(discord.url))
