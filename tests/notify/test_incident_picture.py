"""The incident chart as a PNG in the notifications: drawn from the store's per-minute
counts, deterministic, small; attached in the Discord embed (local Discord server) and
inline in the e-mail (local SMTP server); a chart that cannot be drawn never stops the
text."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import timedelta

from notify_fakes import T0, FakeDiscord, make_incident
from sqlalchemy import Engine, insert, text
from test_email_notifier import _notifier, smtp  # noqa: F401 - the SMTP server fixture
from test_notify_service import _cfg, _report, _rows, _store

from detector.incidents import repository as repo
from detector.incidents.chart import incident_chart_data
from logvigil.core.events import Severity
from logvigil.store.schema import MinuteCount
from notify import build_notifiers
from notify.base import Notification
from notify.discord import DiscordNotifier
from notify.messages import report_ready
from notify.outbox import Sender
from notify.picture import MAX_BYTES, incident_picture, render_png
from notify.service import on_report

PNG = b"\x89PNG\r\n\x1a\n"


def _counts(engine: Engine) -> None:
    """An hour of postgres lines around T0, with errors in the minutes after it."""
    rows = []
    for m in range(-30, 30):
        at = T0 + timedelta(minutes=m)
        rows.append(
            dict(
                minute=at,
                host="db-01",
                service="postgres",
                template_id=1,
                severity=int(Severity.INFO),
                count=5 + m % 3,
            )
        )
        if m >= 0:
            rows.append(
                dict(
                    minute=at,
                    host="db-01",
                    service="postgres",
                    template_id=2,
                    severity=int(Severity.ERROR),
                    count=3,
                )
            )
    with engine.begin() as conn:
        conn.execute(insert(MinuteCount), rows)


def _incident(engine: Engine):
    incident_id = _store(engine, make_incident())
    _counts(engine)
    with engine.connect() as conn:
        return repo.load(conn, incident_id)


def test_the_chart_is_a_small_deterministic_png_of_the_store(engine: Engine) -> None:
    inc = _incident(engine)
    with engine.connect() as conn:
        chart = incident_chart_data(conn, inc)
        first, again = incident_picture(conn, inc), incident_picture(conn, inc)
    postgres = next(s for s in chart.series if s.service == "postgres")
    assert sum(postgres.errors) == 3 * 30 and max(postgres.lines) >= 8
    assert [m.at for m in chart.marks] == [T0]
    assert first is not None and first.startswith(PNG) and first == again
    assert len(first) < MAX_BYTES
    quiet = render_png(type(chart)([], []), "nothing")
    assert quiet.startswith(PNG) and quiet != first


def test_the_discord_report_shows_the_chart_in_its_embed(
    engine: Engine, discord: FakeDiscord
) -> None:
    inc = _incident(engine)
    with engine.connect() as conn:
        png = incident_picture(conn, inc)
    n = replace(report_ready(inc, _report(inc.id), T0), picture=png)
    DiscordNotifier(discord.url).send(Notification.from_json(n.to_json()))  # as the outbox does
    rec = discord.requests[0]
    name = f"incident-{inc.id}.png"
    assert rec.json["embeds"][0]["image"] == {"url": f"attachment://{name}"}
    assert rec.json["attachments"][1] == {"id": 1, "filename": name}
    assert rec.files["files[1]"] == png
    assert rec.files["files[0]"].decode().startswith("#")  # the report, as before


def test_the_report_enqueued_after_an_investigation_carries_the_picture(
    engine: Engine, discord: FakeDiscord
) -> None:
    inc = _incident(engine)
    cfg = _cfg(discord)
    assert on_report(engine, inc.id, _report(inc.id), T0, cfg) == 1
    assert _rows(engine)[-1].payload["picture_png"]
    Sender(engine, build_notifiers(cfg)).drain(T0)
    assert discord.requests[-1].files["files[1]"].startswith(PNG)


def test_a_chart_that_cannot_be_drawn_leaves_the_text_alone(
    engine: Engine, discord: FakeDiscord
) -> None:
    inc = _incident(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE minute_counts"))
    try:
        with engine.connect() as conn:
            assert incident_picture(conn, inc) is None
        cfg = _cfg(discord)
        assert on_report(engine, inc.id, _report(inc.id), T0, cfg) == 1
        assert _rows(engine)[-1].payload["picture_png"] is None
        Sender(engine, build_notifiers(cfg)).drain(T0)
        assert discord.deliveries == 1 and "files[1]" not in discord.requests[-1].files
    finally:
        with engine.begin() as conn:
            MinuteCount.__table__.create(conn)


def test_a_stored_picture_that_is_not_base64_is_dropped_not_fatal() -> None:
    n = Notification.from_json({"kind": "report", "title": "t", "picture_png": "%%%not base64"})
    assert n.picture is None


def test_the_email_shows_the_chart_inline(engine: Engine, smtp) -> None:  # noqa: F811
    controller, inbox = smtp
    inc = _incident(engine)
    with engine.connect() as conn:
        png = incident_picture(conn, inc)
    _notifier(controller).send(replace(report_ready(inc, _report(inc.id), T0), picture=png))
    msg = email.message_from_bytes(inbox.messages[0][2], policy=email.policy.default)
    html = msg.get_body(("html",))
    assert html is not None
    related = [p for p in msg.walk() if p.get_content_type() == "multipart/related"]
    assert related, msg.as_string()[:2000]
    image = next(p for p in msg.walk() if p.get_content_type() == "image/png")
    assert image.get_content() == png
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html.get_content()
    assert msg.get_body(("plain",)) is not None  # the text alone still reads
