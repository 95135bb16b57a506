"""E-mail over real TLS on loopback: STARTTLS and implicit TLS against aiosmtpd, with a
throwaway CA from trustme, the `ca_file` setting, and certificates that must be refused.

(STARTTLS required but not offered is tested in test_email_notifier.py.)
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from notify_fakes import T0, make_incident
from pydantic import ValidationError

from logvigil.app.settings import load_settings
from logvigil.core.yamlfile import ConfigError
from notify import build_notifiers
from notify.base import NotifyError
from notify.email import EmailConfig, EmailNotifier
from notify.messages import incident_opened

aiosmtpd = pytest.importorskip("aiosmtpd", reason="aiosmtpd is a dev dependency")
trustme = pytest.importorskip("trustme", reason="trustme is a dev dependency")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult  # noqa: E402

PASSWORD = "smtp-Tl5-Pa55w0rd-never-shown"
USER = "logvigil"

#: The settings path (load_settings -> NotifyConfig.email -> build_notifiers) takes `ca_file`
#: from notify.email.EmailConfig, mounted as `notify.email` by the registry.


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.tls: list[bool] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        self.tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 OK"


def _auth(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:  # aiosmtpd's readiness check needs a real port
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_context(ca: trustme.CA, names: tuple[str, ...]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(ctx)
    return ctx


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """The CA we trust (its certificate goes into `ca_file`)."""
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "internal-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


StartServer = Callable[..., tuple[Controller, Inbox]]


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """Starts aiosmtpd on loopback: mode "starttls" (STARTTLS required, AUTH only after it)
    or "tls" (implicit TLS), with a certificate for `names` signed by `signer`."""
    started: list[Controller] = []

    def start(
        mode: str, signer: trustme.CA, names: tuple[str, ...] = ("127.0.0.1", "localhost")
    ) -> tuple[Controller, Inbox]:
        inbox = Inbox()
        server_ctx = _server_context(signer, names)
        tls_kw = (
            {"tls_context": server_ctx, "require_starttls": True}
            if mode == "starttls"
            else {"ssl_context": server_ctx}
        )
        controller = Controller(
            inbox,
            hostname="127.0.0.1",
            port=_free_port(),
            authenticator=_auth,
            # aiosmtpd 1.4.6 counts only STARTTLS, not implicit TLS, as TLS for AUTH.
            auth_require_tls=mode == "starttls",
            **tls_kw,
        )
        controller.start()
        started.append(controller)
        return controller, inbox

    yield start
    for controller in started:
        controller.stop()


def _config(port: int, security: str, ca_file: Path | None, **kw) -> EmailConfig:
    section = {
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "user": USER,
        "password": PASSWORD,
        "from": "logvigil@example.org",
        "to": ["ops@example.org"],
        **kw,
    }
    if ca_file is not None:
        section["ca_file"] = str(ca_file)
    return EmailConfig.model_validate(section)


def _assert_delivered(inbox: Inbox) -> None:
    assert len(inbox.messages) == 1 and inbox.tls == [True]
    sender, rcpts, raw = inbox.messages[0]
    assert sender == "logvigil@example.org" and rcpts == ["ops@example.org"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"].startswith("[LogVigil] [critical] postgres OOM-killed on db-01")
    plain = msg.get_body(("plain",)).get_content()
    assert "investigate --incident 42" in plain


# -- delivery over TLS -------------------------------------------------------------------------


def test_starttls_with_the_ca_file_of_the_config_delivers(start_server, ca, ca_file) -> None:
    controller, inbox = start_server("starttls", ca)
    notifier = EmailNotifier.from_config(_config(controller.port, "starttls", ca_file))
    receipt = notifier.send(incident_opened(make_incident(), T0))
    assert receipt and receipt.endswith("@logvigil>")
    _assert_delivered(inbox)


def test_implicit_tls_with_the_ca_file_of_the_config_delivers(start_server, ca, ca_file) -> None:
    controller, inbox = start_server("tls", ca)
    notifier = EmailNotifier.from_config(_config(controller.port, "tls", ca_file))
    assert notifier.send(incident_opened(make_incident(), T0))
    _assert_delivered(inbox)


def test_implicit_tls_with_a_trusting_ssl_context_delivers(start_server, ca) -> None:
    controller, inbox = start_server("tls", ca)
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    notifier = EmailNotifier(
        "127.0.0.1",
        controller.port,
        "tls",
        "logvigil@example.org",
        ["ops@example.org"],
        user=USER,
        password=PASSWORD,
        timeout=5,
        ssl_context=ctx,
    )
    assert notifier.send(incident_opened(make_incident(), T0))
    _assert_delivered(inbox)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_the_settings_file_path_delivers_over_tls(
    start_server, ca, ca_file, tmp_path: Path, security: str
) -> None:
    """What a user gets: logvigil.yaml with ca_file, the password from the environment."""
    controller, inbox = start_server(security, ca)
    config = tmp_path / "logvigil.yaml"
    config.write_text(
        "notify:\n"
        "  console: false\n"
        "  email:\n"
        "    host: 127.0.0.1\n"
        f"    port: {controller.port}\n"
        f"    security: {security}\n"
        f"    user: {USER}\n"
        "    from: logvigil@example.org\n"
        "    to: [ops@example.org]\n"
        f"    ca_file: {ca_file}\n"
    )
    settings = load_settings(config, environ={"LOGVIGIL_SMTP_PASSWORD": PASSWORD})
    notifiers = build_notifiers(settings.notify)
    assert list(notifiers) == ["email"]
    assert notifiers["email"].send(incident_opened(make_incident(), T0))
    _assert_delivered(inbox)


# -- certificates that must be refused ----------------------------------------------------------


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_certificate_of_an_untrusted_ca_is_refused_for_good(
    start_server, ca_file, security: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    controller, inbox = start_server(security, trustme.CA())  # not the CA of ca_file
    notifier = EmailNotifier.from_config(_config(controller.port, security, ca_file))
    committed: list[bool] = []
    with pytest.raises(NotifyError) as info:
        notifier.send(incident_opened(make_incident(), T0), lambda: committed.append(True))
    err = info.value
    assert err.permanent and not err.in_doubt and committed == []
    assert "certificate verification" in err.message
    assert f"127.0.0.1:{controller.port}" in err.message
    assert "unable to get local issuer certificate" in err.message
    assert "ca_file" in err.message
    assert PASSWORD not in str(err) and PASSWORD not in caplog.text
    assert inbox.messages == []


def test_the_system_store_does_not_trust_a_private_ca(start_server, ca) -> None:
    controller, inbox = start_server("starttls", ca)
    notifier = EmailNotifier.from_config(_config(controller.port, "starttls", None))
    with pytest.raises(NotifyError, match="certificate verification") as info:
        notifier.send(incident_opened(make_incident(), T0))
    assert info.value.permanent and inbox.messages == []


def test_a_certificate_for_another_host_name_is_refused(start_server, ca, ca_file) -> None:
    controller, inbox = start_server("tls", ca, names=("mail.example.org",))
    notifier = EmailNotifier.from_config(_config(controller.port, "tls", ca_file))
    with pytest.raises(NotifyError, match="certificate verification") as info:
        notifier.send(incident_opened(make_incident(), T0))
    assert info.value.permanent and "mismatch" in info.value.message
    assert "`host` must be a name the certificate holds" in info.value.message
    assert inbox.messages == []


def test_implicit_tls_against_a_plain_server_is_a_clear_transient_failure(ca_file) -> None:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())  # no TLS at all
    controller.start()
    try:
        notifier = EmailNotifier.from_config(_config(controller.port, "tls", ca_file))
        with pytest.raises(NotifyError) as info:
            notifier.send(incident_opened(make_incident(), T0))
    finally:
        controller.stop()
    assert not info.value.permanent and not info.value.in_doubt
    assert info.value.message.startswith(f"TLS with 127.0.0.1:{controller.port} failed")
    assert "security: tls" in info.value.message and inbox.messages == []


def test_verification_cannot_be_turned_off() -> None:
    lax = ssl.create_default_context()
    lax.check_hostname = False
    lax.verify_mode = ssl.CERT_NONE
    with pytest.raises(ValueError, match="always verifies"):
        EmailNotifier("127.0.0.1", 465, "tls", "a@example.org", ["b@example.org"], ssl_context=lax)
    for key in ("verify", "tls_verify", "insecure"):
        with pytest.raises(ValidationError, match="Extra inputs"):
            _config(465, "tls", None, **{key: False})


# -- the ca_file setting -----------------------------------------------------------------------


def _bad_ca_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    not_pem = tmp_path / "ca.der"
    not_pem.write_bytes(b"\x30\x82\x01\x0a not a PEM file")
    corrupt = tmp_path / "corrupt.pem"
    corrupt.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    return {
        "missing": (tmp_path / "missing-ca.pem", "does not exist"),
        "not PEM": (
            not_pem,
            "is not a PEM bundle of CA certificates (no -----BEGIN CERTIFICATE----- block)",
        ),
        "corrupt PEM": (
            corrupt,
            "is not a PEM bundle of CA certificates (a certificate block that cannot be parsed)",
        ),
        "a directory": (tmp_path, "cannot be read: Is a directory"),
    }


@pytest.mark.parametrize("case", ["missing", "not PEM", "corrupt PEM", "a directory"])
def test_a_bad_ca_file_is_a_config_error_naming_field_and_file(tmp_path: Path, case: str) -> None:
    path, why = _bad_ca_files(tmp_path)[case]
    with pytest.raises(ValidationError) as info:
        _config(587, "starttls", path)
    (error,) = info.value.errors()
    assert error["loc"] == ("ca_file",) and error["input"] == str(path)
    assert error["msg"] == f"Value error, the CA file {path} {why}"


def test_a_relative_ca_file_error_names_the_file_it_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError) as info:
        _config(587, "starttls", Path("certs/mail-ca.pem"))
    (error,) = info.value.errors()
    assert error["msg"].endswith(f"the CA file {tmp_path}/certs/mail-ca.pem does not exist")


@pytest.mark.parametrize("case", ["missing", "not PEM"])
def test_a_bad_ca_file_in_logvigil_yaml_is_located(tmp_path: Path, case: str) -> None:
    path, why = _bad_ca_files(tmp_path)[case]
    config = tmp_path / "logvigil.yaml"
    config.write_text(
        "notify:\n"
        "  email:\n"
        "    host: mail.internal\n"
        "    from: logvigil@example.org\n"
        "    to: [ops@example.org]\n"
        f"    ca_file: {path}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_settings(config, environ={})
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.path) == (str(config), 6, "notify.email.ca_file")
    assert str(problem).startswith(
        f"{config}:6: notify.email.ca_file: the CA file {path} {why}, got: "
    )


def test_a_ca_file_gone_after_loading_fails_the_delivery_for_good(
    start_server, ca, ca_file
) -> None:
    controller, inbox = start_server("starttls", ca)
    notifier = EmailNotifier.from_config(_config(controller.port, "starttls", ca_file))
    ca_file.unlink()
    with pytest.raises(NotifyError) as info:
        notifier.send(incident_opened(make_incident(), T0))
    assert info.value.permanent
    assert "notify.email.ca_file" in info.value.message and str(ca_file) in info.value.message
    assert inbox.messages == []
