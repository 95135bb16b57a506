"""A structured record's other fields (an event's attributes) are redacted as its
message is: a credential's field whole, the secrets inside other text values."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from logvigil.cli import app
from logvigil.core.redact import REDACTED, redact, redact_fields

WEBHOOK = "https://discord.com/api/webhooks/1187654321098765432/k9F2mQ7vX1pL8sD4hJ6gT3rY5uI0oP2a"


def test_a_field_named_for_a_credential_is_redacted_whole() -> None:
    fields = {
        "password": "hunter2",  # no shape of its own: its name says what it is
        "db_password": "s3cr3t",
        "PGPASSWORD": "x",
        "api_key": "abc123",
        "client_secret": "0123456789",
        "auth_token": "t",
        "private_key": "/etc/ssl/private/site.pem",  # a path says where one is kept
        "db_pwd": 1234,  # a number too
        "password_auth": True,  # a flag says how, not what
        "user": "bob",
        "pid": 812,
    }
    assert redact_fields(fields) == fields | {
        "db_pwd": REDACTED,
        "password": REDACTED,
        "db_password": REDACTED,
        "PGPASSWORD": REDACTED,
        "api_key": REDACTED,
        "client_secret": REDACTED,
        "auth_token": REDACTED,
    }
    assert fields["password"] == "hunter2"  # the record itself is left as it was


def test_a_secret_inside_another_field_is_redacted_as_in_a_message() -> None:
    fields = {"notify_url": WEBHOOK, "dsn": "postgres://app:pw0rd@db-01/app", "args": "pwd=x"}
    assert redact_fields(fields) == {
        "notify_url": redact(WEBHOOK),
        "dsn": "postgres://app:<redacted>@db-01/app",
        "args": "pwd=<redacted>",  # the shortest text a rule changes
    }
    assert "k9F2" not in redact(WEBHOOK)


# A Cowrie honeypot's records (cowrie_honeypot.json, ../shared/data/real_logs): its
# session, algorithm lists and the attacker's client hold no secret; a login's
# `password` field is one by its name (the message keeps what the attacker typed).
COWRIE_CONNECT = {
    "eventid": "cowrie.session.connect",
    "src_ip": "88.223.26.58",
    "src_port": 52577,
    "dst_ip": "172.17.0.3",
    "system": "cowrie.ssh.factory.CowrieSSHFactory",
    "protocol": "ssh",
    "isError": 0,
    "session": "173332e506ca",
    "dst_port": 2222,
    "sensor": "920497a79896",
}
COWRIE_KEX = {
    "session": "173332e506ca",
    "kexAlgs": '["curve25519-sha256@libssh.org","ecdh-sha2-nistp256","ext-info-c"]',
    "keyAlgs": '["ssh-ed25519-cert-v01@openssh.com","ssh-rsa-cert-v01@openssh.com"]',
    "version": "SSH-2.0-OpenSSH_7.7",
}


def test_records_without_a_secret_come_back_as_none() -> None:
    assert redact_fields(COWRIE_CONNECT) is None
    assert redact_fields(COWRIE_KEX) is None
    assert redact_fields({"uptime": 1244844.608014, "pid": "6425", "tag": "sshd"}) is None
    login = {"eventid": "cowrie.login.failed", "username": "root", "password": "123456"}
    assert redact_fields(login) == login | {"password": REDACTED}


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet="pwdsecrtokn=:@/ -_'\"x1", max_size=4))
def test_no_rule_changes_a_text_shorter_than_five_characters(value: str) -> None:
    assert redact(value) == value
    assert redact_fields({"field": value}) is None


@settings(max_examples=100, deadline=None, database=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=80))
def test_no_rule_changes_a_text_of_digits(value: str) -> None:
    assert redact(value) == value
    assert redact_fields({"_PID": value}) is None


def test_ingest_stores_a_records_fields_redacted_and_counts_the_line(
    db_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "api.jsonl"
    record = {"ts": "2026-03-04T10:00:00Z", "host": "web-01", "service": "api",
              "message": "login failed", "password": "hunter2", "notify_url": WEBHOOK,
              "user": "bob"}  # fmt: skip
    log.write_text(json.dumps(record) + "\n")
    ingested = CliRunner().invoke(app, ["ingest", str(log), "--format", "jsonl", "--db", db_url])
    assert ingested.exit_code == 0, ingested.output
    stats = CliRunner().invoke(app, ["stats", "--json", "--db", db_url])
    assert json.loads(stats.stdout)["redacted"] == {"secret in the line": 1}
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT attributes FROM events")).scalar_one()
    finally:
        engine.dispose()
    attributes = stored if isinstance(stored, dict) else json.loads(stored)
    assert attributes == {"password": REDACTED, "notify_url": redact(WEBHOOK), "user": "bob"}
