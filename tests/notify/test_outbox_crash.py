"""The outbox across crashes: a sender killed mid-send does not deliver twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

from notify_fakes import T0, FakeDiscord, make_incident
from sqlalchemy import select, update

from logvigil.store.schema import OutboxRow
from notify.base import NotifyError
from notify.discord import DiscordNotifier
from notify.messages import incident_opened
from notify.outbox import LEASE, OutboxStatus, Sender, enqueue

ROOT = Path(__file__).resolve().parents[2]

SENDER_SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from logvigil.store.database import create_store_engine
    from notify.discord import DiscordNotifier
    from notify.outbox import Sender

    db_url, webhook, now = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
    Sender(create_store_engine(db_url), {"discord": DiscordNotifier(webhook)}).drain(now)
    """
)


def _enqueue(engine, key: str = "opened:42:discord") -> int:
    n = incident_opened(make_incident(), T0)
    with engine.begin() as conn:
        enqueue(conn, "discord", n.kind.value, key, n.to_json(), T0, incident_id=42)
        return conn.execute(select(OutboxRow.id).where(OutboxRow.idempotency_key == key)).scalar()


def _row(engine, row_id: int):
    with engine.connect() as conn:
        return conn.execute(select(OutboxRow.__table__).where(OutboxRow.id == row_id)).one()


def test_the_same_idempotency_key_is_enqueued_once(engine) -> None:
    n = incident_opened(make_incident(), T0)
    with engine.begin() as conn:
        assert enqueue(conn, "discord", "opened", "k", n.to_json(), T0) is True
        assert enqueue(conn, "discord", "opened", "k", n.to_json(), T0) is False
    with engine.connect() as conn:
        assert len(conn.execute(select(OutboxRow.id)).all()) == 1


def test_one_delivery_after_a_kill_and_restart_mid_send(
    engine, db_url: str, discord: FakeDiscord
) -> None:
    row_id = _enqueue(engine)
    discord.script = ["hold"]  # Discord has the message but has not answered yet
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SENDER_SCRIPT, db_url, discord.url, T0.isoformat()],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert discord.received.wait(60), proc.stderr.read().decode() if proc.poll() else ""
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    discord.release.set()
    assert _row(engine, row_id).status == OutboxStatus.POSTING.value

    # The restarted daemon drains again, before and after the dead sender's lease.
    sender = Sender(engine, {"discord": DiscordNotifier(discord.url)})
    assert sender.drain(T0 + timedelta(seconds=30)).outcomes == []
    result = sender.drain(T0 + LEASE + timedelta(seconds=1))
    sender.drain(T0 + LEASE + timedelta(hours=1))

    assert discord.deliveries == 1
    assert len(discord.requests) == 1
    assert result.unconfirmed_after_crash == 1
    row = _row(engine, row_id)
    assert row.status == OutboxStatus.UNCONFIRMED.value
    assert "not resent" in row.last_error


def test_a_sender_that_died_before_the_message_left_is_retried_once(
    engine, discord: FakeDiscord
) -> None:
    row_id = _enqueue(engine)
    with engine.begin() as conn:  # what a sender killed while connecting leaves behind
        conn.execute(
            update(OutboxRow.__table__)
            .where(OutboxRow.id == row_id)
            .values(status="sending", claimed_until=T0 + LEASE, attempts=1)
        )
    sender = Sender(engine, {"discord": DiscordNotifier(discord.url)})
    assert sender.drain(T0 + timedelta(seconds=10)).outcomes == []  # the claim still holds
    result = sender.drain(T0 + LEASE + timedelta(seconds=1))
    sender.drain(T0 + LEASE + timedelta(minutes=5))
    assert result.recovered == 1
    assert discord.deliveries == 1
    assert _row(engine, row_id).status == "sent"


def test_two_senders_never_deliver_the_same_row(engine, discord: FakeDiscord) -> None:
    _enqueue(engine)
    calls = []

    class Reentrant:
        """A notifier that runs a second sender while the first is mid-send."""

        name = "discord"

        def send(self, notification, committing):
            calls.append(1)
            committing()
            other = Sender(engine, {"discord": DiscordNotifier(discord.url)})
            assert other.drain(T0).outcomes == []
            return None

    Sender(engine, {"discord": Reentrant()}).drain(T0)
    assert calls == [1] and discord.deliveries == 0


def test_a_notifier_that_raises_anything_never_breaks_the_drain(engine) -> None:
    row_id = _enqueue(engine)

    class Buggy:
        name = "discord"

        def send(self, notification, committing):
            raise KeyError("bug")

    result = Sender(engine, {"discord": Buggy()}).drain(T0)
    assert result.error is None
    row = _row(engine, row_id)
    assert row.status == "pending" and "internal error" in row.last_error


def test_a_timeout_after_the_message_left_is_not_resent(engine, discord: FakeDiscord) -> None:
    row_id = _enqueue(engine)
    discord.script = ["hold"]
    sender = Sender(engine, {"discord": DiscordNotifier(discord.url, timeout=0.3)})
    result = sender.drain(T0)
    discord.release.set()
    sender.drain(T0 + timedelta(hours=1))
    assert result.count(OutboxStatus.UNCONFIRMED) == 1
    assert discord.deliveries == 1
    assert _row(engine, row_id).status == "unconfirmed"


def test_the_committing_hook_stops_a_send_whose_claim_was_lost(engine) -> None:
    row_id = _enqueue(engine)
    sent = []

    class Stealing:
        name = "discord"

        def send(self, notification, committing):
            with engine.begin() as conn:
                conn.execute(
                    update(OutboxRow.__table__).where(OutboxRow.id == row_id).values(status="sent")
                )
            try:
                committing()
            except NotifyError:
                raise
            sent.append(1)

    Sender(engine, {"discord": Stealing()}).drain(T0)
    assert sent == []
