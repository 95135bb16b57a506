"""E-mail against a real SMTP server on loopback (aiosmtpd; skipped when not installed)."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
from collections.abc import Iterator

import pytest
from notify_fakes import T0, make_incident

from notify.base import NotifyError
from notify.email import EmailNotifier
from notify.messages import incident_opened

aiosmtpd = pytest.importorskip("aiosmtpd", reason="aiosmtpd is a dev dependency to add")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult  # noqa: E402

PASSWORD = "smtp-Pa55w0rd-never-shown"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _auth(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"logvigil" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd's readiness check needs a real one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_auth,
        auth_require_tls=False,
    )
    controller.start()
    yield controller, inbox
    controller.stop()


def _notifier(controller: Controller, password: str = PASSWORD) -> EmailNotifier:
    return EmailNotifier(
        "127.0.0.1",
        controller.port,
        "none",
        "logvigil@example.org",
        ["ops@example.org"],
        user="logvigil",
        password=password,
        timeout=5,
    )


def test_an_incident_is_mailed_as_plain_text_with_an_escaped_html_alternative(smtp) -> None:
    controller, inbox = smtp
    incident = make_incident(summary="<script>alert(1)</script> @everyone")
    receipt = _notifier(controller).send(incident_opened(incident, T0))
    assert receipt and len(inbox.messages) == 1
    sender, rcpts, raw = inbox.messages[0]
    assert sender == "logvigil@example.org" and rcpts == ["ops@example.org"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"].startswith("[LogVigil] [critical] postgres OOM-killed on db-01")
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "<script>" in plain and "investigate --incident 42" in plain
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_refused_login_is_permanent_and_never_shows_the_password(
    smtp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    controller, inbox = smtp
    wrong = "wrong-" + PASSWORD
    with pytest.raises(NotifyError) as info:
        _notifier(controller, password=wrong).send(incident_opened(make_incident(), T0))
    assert info.value.permanent and "login" in info.value.message
    assert wrong not in str(info.value) and wrong not in caplog.text
    assert PASSWORD not in repr(_notifier(controller))
    assert inbox.messages == []


def test_an_unreachable_mail_server_is_transient() -> None:
    n = EmailNotifier("127.0.0.1", 1, "none", "a@example.org", ["b@example.org"], timeout=2)
    with pytest.raises(NotifyError) as info:
        n.send(incident_opened(make_incident(), T0))
    assert not info.value.permanent and not info.value.in_doubt


def test_starttls_is_required_when_configured(smtp) -> None:
    controller, _ = smtp
    n = EmailNotifier(
        "127.0.0.1",
        controller.port,
        "starttls",
        "a@example.org",
        ["b@example.org"],
        timeout=5,
    )
    with pytest.raises(NotifyError, match="STARTTLS") as info:
        n.send(incident_opened(make_incident(), T0))
    assert info.value.permanent
