"""Secrets inside log text, in the shapes their services really write them, are redacted
wherever log text is stored or shown: one module, `logvigil.core.redact`.

Every secret below is in the format its vendor documents (the example values of their
documentation where they give one): a line that quotes it must never show it again.
"""

from __future__ import annotations

import dataclasses
import json
import signal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from incident_support import INVENTORY, at, finding
from sqlalchemy import Engine, create_engine, insert, text
from typer.testing import CliRunner

from detector.detectors._common import clip
from detector.incidents.manager import IncidentManager
from detector.incidents.model import BundleConfig, IncidentConfig
from detector.incidents.topology import InventoryTopology
from graph.inventory import load_inventory
from logvigil.cli import app
from logvigil.core.events import Severity
from logvigil.core.redact import _RULES, REDACTED, clean_line, might_hold_secret, redact
from logvigil.store.bulk import executemany
from logvigil.store.schema import Event

# (what a log line says, the secret in it, what must stay of it)
SHAPES: list[tuple[str, str, str]] = [
    # -- webhook URLs: the secret is the path
    (
        "discord: POST https://discord.com/api/webhooks/1234567890123456789/"
        "Xy4kE_9-TQv2NnLw0bXc8sR1fGh5JkLmNoPqRsTuVwXyZaBcDeFgHiJkLmNoPqRsTuVwXyZa1234 "
        "failed: 429",
        "Xy4kE_9-TQv2",
        "https://discord.com/api/webhooks/<redacted> failed: 429",
    ),
    (
        "sending to https://discordapp.com/api/v10/webhooks/987654321098765432/abcdefghijkl_mnop",
        "987654321098765432",
        "https://discordapp.com/api/v10/webhooks/<redacted>",
    ),
    (
        "posting to https://canary.discord.com/api/webhooks/111111111111111111/tok-en_value-xyz",
        "tok-en_value",
        "https://canary.discord.com/api/webhooks/<redacted>",
    ),
    (  # Slack's documented incoming-webhook example
        "curl -X POST -d @msg.json https://hooks.slack.com/services/T00000000/B00000000/"
        "XXXXXXXXXXXXXXXXXXXXXXXX",
        "XXXXXXXXXXXXXXXXXXXXXXXX",
        "https://hooks.slack.com/services/<redacted>",
    ),
    (
        "workflow trigger https://hooks.slack.com/triggers/T0123ABCD/4567890123/abcdef0123456789",
        "abcdef0123456789",
        "https://hooks.slack.com/triggers/<redacted>",
    ),
    (  # Mattermost's documented incoming-webhook URL
        "notify: https://your-mattermost-server.com/hooks/xxx-generatedkey-xxx returned 403",
        "generatedkey",
        "https://your-mattermost-server.com/hooks/<redacted> returned 403",
    ),
    (  # Rocket.Chat: /hooks/<integration id>/<token>
        "https://chat.example.org/hooks/6Wd3ZKLd2z3Eg6r9x/bQxBhbDcMRhTLqzX8L9TcQa2aEaPr9cgw5",
        "bQxBhbDcMRhTLqzX8L9TcQa2aEaPr9cgw5",
        "https://chat.example.org/hooks/<redacted>",
    ),
    (  # Microsoft Teams incoming webhook
        "teams: https://contoso.webhook.office.com/webhookb2/7aa49aa6-7840-443d-806c-"
        "08ebe8f59966@c662313f-14fc-43a2-9a7a-d2e27f4f3478/IncomingWebhook/"
        "8592f62b50cf41b9b93ba0c0a00a0b88/eff4cd58-1bb8-4899-94de-795f656b4a18",
        "8592f62b50cf41b9b93ba0c0a00a0b88",
        "https://contoso.webhook.office.com/webhookb2/<redacted>",
    ),
    (  # nginx's combined log format: the request line quotes the hook's path
        '203.0.113.9 - - [04/Mar/2026:10:00:00 +0000] "POST /hooks/xxx-generatedkey-xxx '
        'HTTP/1.1" 200 2 "-" "curl/8.5.0"',
        "generatedkey",
        '"POST /hooks/<redacted> HTTP/1.1" 200 2',
    ),
    # -- URLs with user:password@
    (
        "connection to postgresql://app:s3cr3t-Pa55@db-01:5432/app failed",
        "s3cr3t-Pa55",
        "postgresql://app:<redacted>@db-01:5432/app failed",
    ),
    (  # redis-py's password-only form
        "Error connecting to redis://:Sup3rS3cret@cache-01:6379/0.",
        "Sup3rS3cret",
        "redis://:<redacted>@cache-01:6379/0.",
    ),
    (
        "amqp://guest:guest-pw@rabbitmq:5672/ connection reset",
        "guest-pw",
        "amqp://guest:<redacted>@rabbitmq:5672/",
    ),
    (
        "fatal: unable to access 'https://oauth2:tok3nValue99@gitlab.example.com/g/r.git/'",
        "tok3nValue99",
        "https://oauth2:<redacted>@gitlab.example.com/g/r.git/",
    ),
    # -- bearer and API tokens
    (
        "GET /api/v1/items Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "Authorization: <redacted>",
    ),
    (  # GitHub's documented personal access token example
        "git push with ghp_16C7e42F292c6912E7710c838347Ae178B4a failed",
        "16C7e42F292c6912E7710c838347Ae178B4a",
        "with <redacted> failed",
    ),
    (
        "using github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ for the API",
        "github_pat_11ABCDEFG",
        "using <redacted> for",
    ),
    (
        "runner registered with glpat-xYz1234567890abcdEFGH",
        "glpat-xYz1234567890abcdEFGH",
        "with <redacted>",
    ),
    (  # Slack's documented bot token example
        "slack client xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy rejected",
        "pdFZKVeTuE8sk7oOcBrzbqgy",
        "client <redacted> rejected",
    ),
    (  # AWS's documented example access key ID
        "InvalidClientTokenId: The security token AKIAIOSFODNN7EXAMPLE is invalid",
        "AKIAIOSFODNN7EXAMPLE",
        "token <redacted> is invalid",
    ),
    (
        "geocode https://maps.googleapis.com/maps/api/geocode/json?address=x&"
        "key=AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe denied",
        "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
        "denied",
    ),
    (  # Stripe's documented secret key shape
        "stripe: No such customer; request used sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "4eC39HqLyjWDarjtT1zdp7dc",
        "request used <redacted>",
    ),
    (
        "openai 401 for key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD",
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "for key <redacted>",
    ),
    (
        "anthropic: invalid x-api-key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789-AAAA",
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "<redacted>",
    ),
    (
        "sendgrid 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 rejected",
        "TwL2iGABf9DHoTf",
        "<redacted> rejected",
    ),
    (
        "npm ERR! using npm_abcdefghijklmnopqrstuvwxyz0123456789 for registry",
        "npm_abcdefghijklmnopqrstuvwxyz0123456789",
        "using <redacted> for",
    ),
    (  # Telegram's documented bot token, in its Bot API URL
        "GET https://api.telegram.org/bot110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe 401",
        "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "https://api.telegram.org/bot<redacted>/getMe 401",
    ),
    # -- key=value credentials (kept from before)
    ("FATAL: auth failed user=app password=hunter2 db=app", "hunter2", "password=<redacted>"),
    ('{"user": "bob", "token": "abc123xyz"}', "abc123xyz", '"token": <redacted>'),
]

_RSA_BODY = (
    "MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpF\n"
    "KdbT/iDYBz5tCdS+pw/1CrNWMeBlvcHl2KDcNLOQIO1gOJrHS5FX9tPtGfX1ho0Q\n"
)
# The PEM and PGP armour openssl, ssh-keygen and gpg write: `BEGIN` label to `END` label.
KEYS = [
    f"-----BEGIN RSA PRIVATE KEY-----\n{_RSA_BODY}-----END RSA PRIVATE KEY-----",
    f"-----BEGIN PRIVATE KEY-----\n{_RSA_BODY}-----END PRIVATE KEY-----",
    f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{_RSA_BODY}-----END ENCRYPTED PRIVATE KEY-----",
    f"-----BEGIN EC PRIVATE KEY-----\n{_RSA_BODY}-----END EC PRIVATE KEY-----",
    f"-----BEGIN OPENSSH PRIVATE KEY-----\n{_RSA_BODY}-----END OPENSSH PRIVATE KEY-----",
    f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{_RSA_BODY}=twTO\n-----END PGP PRIVATE KEY BLOCK-----",
]


@pytest.mark.parametrize(("line", "secret", "kept"), SHAPES)
def test_each_real_shape_of_secret_is_redacted(line: str, secret: str, kept: str) -> None:
    out = redact(line)
    assert secret not in out
    assert kept in out
    assert REDACTED in out


@pytest.mark.parametrize("line", [line for line, _, _ in SHAPES] + KEYS)
def test_the_quick_test_before_the_rules_never_misses_a_secret(line: str) -> None:
    assert might_hold_secret(line)
    # Each rule runs only where its own quick test holds: not one secret slips through.
    assert redact(line) == _every_rule(line)


def _every_rule(line: str) -> str:
    for pattern, repl in _RULES:
        line = pattern.sub(repl, line)
    return line


def test_a_secret_is_redacted_before_it_is_mined_or_stored(db_url: str, tmp_path: Path) -> None:
    # The miner masks most of a webhook URL as `<*>`: redacted afterwards, the tail of
    # its token (after the last `-`) stayed in the template, its bundle and report.
    token = "k9F2mQ7vX1pL8sD4hJ6gT3rY5uI0oP2aS4dF6gH8jK1lZ3xC5vB7nM9qW2eR4-ZqWeRt"
    url = f"https://discord.com/api/webhooks/1187654321098765432/{token}"
    log = tmp_path / "notify.jsonl"
    log.write_text(
        "\n".join(
            json.dumps({"ts": f"2026-03-04T10:00:0{i}Z", "host": "db-01", "service": "notifier",
                        "message": f"FATAL: webhook {url} failed: 401"})
            for i in range(3)
        ) + "\n"
    )  # fmt: skip
    ingested = CliRunner().invoke(app, ["ingest", str(log), "--format", "jsonl", "--db", db_url])
    assert ingested.exit_code == 0, ingested.output
    assert "secrets redacted before storing" in ingested.stderr
    stats = CliRunner().invoke(app, ["stats", "--json", "--db", db_url])
    assert json.loads(stats.stdout)["redacted"] == {"secret in the line": 3}
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            stored = [
                str(v) for v in conn.execute(text("SELECT template FROM templates")).scalars()
            ]
            stored += [str(v) for v in conn.execute(text("SELECT message FROM events")).scalars()]
    finally:
        engine.dispose()
    assert stored and all("ZqWeRt" not in v and "k9F2" not in v for v in stored)
    assert any("webhooks/<redacted>" in v for v in stored)


@pytest.mark.parametrize(("line", "secret", "kept"), SHAPES)
def test_redacting_twice_changes_nothing_more(line: str, secret: str, kept: str) -> None:
    once = redact(line)
    assert redact(once) == once


@pytest.mark.parametrize("key", KEYS)
def test_a_private_key_block_is_redacted_whole(key: str) -> None:
    line = f"loaded key {key} from /etc/ssl/private/x.key"
    out = redact(line)
    assert "MIIEpAIBAAKCAQEA" not in out and "ygWyF8" not in out
    assert out == f"loaded key {REDACTED} from /etc/ssl/private/x.key"


def test_a_private_key_stored_with_escaped_newlines_or_cut_off_is_redacted() -> None:
    # The store keeps a line's newlines as the two characters `\n` (escape_controls).
    stored = KEYS[0].replace("\n", "\\n")
    assert redact(f"key: {stored} done") == f"key: {REDACTED} done"
    cut = "-----BEGIN RSA PRIVATE KEY-----\\n" + _RSA_BODY[:40]  # cut at MAX_LINE_BYTES
    assert redact(f"dump {cut}") == f"dump {REDACTED}"


@pytest.mark.parametrize(
    "line",
    [
        "git hook /var/lib/gitea/data/hooks/update ran for repo x",  # a path, not a URL
        "see https://docs.example.org/admin/hooks for setup",  # a hook page, no token
        "connect to 10.0.0.5:5432 as app failed at 10:00:00",  # addresses and times stay
        "commit 3f786850e387550fdab836ed7e6dc881de23001b built",  # a git sha
        "request 123e4567-e89b-12d3-a456-426614174000 done",
        "disk-usage-report-abcdefghijklmnopqrstuvwxyz0123456789 written",  # not `sk-`
        "mail from bob@example.com accepted",  # e-mail addresses only on request
        "GET /api/v1/hooks HTTP/1.1 200",  # the list of hooks, no token
        # sshd (OpenSSH 8.x) names the key file it cannot read: where a key is, not a key
        "error: Could not load host key: /etc/ssh/ssh_host_ed25519_key",
    ],
)
def test_what_is_not_a_secret_is_left_alone(line: str) -> None:
    assert redact(line) == line


def test_a_bundle_quote_redacts_before_it_cuts() -> None:
    hook = "https://discord.com/api/webhooks/1234567890123456789/" + "T" * 68
    out = clean_line("x" * 60 + " " + hook, 80)
    assert "TTTT" not in out and "1234567890123456789" not in out


# -- where it is applied: the stored bundle and `incidents show --json` ------------------------


def _store(engine: Engine, lines: list[str]) -> None:
    rows = [
        {
            "ts": at(-5 + i / 10),
            "host": "db-01",
            "service": "postgres",
            "severity": int(Severity.ERROR),
            "template_id": 1 + i,
            "message": line,
            "source": "test",
            "attributes": None,
            "truncated": False,
        }
        for i, line in enumerate(lines)
    ]
    with engine.begin() as conn:
        executemany(conn, insert(Event.__table__), Event.__table__, rows)


def test_secrets_in_log_lines_never_reach_the_stored_bundle_or_incidents_json(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    lines = [line for line, _, _ in SHAPES] + [f"loaded {k}" for k in KEYS]
    _store(engine, lines)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY)
    topology = InventoryTopology(load_inventory(inventory))
    config = IncidentConfig(bundle=BundleConfig(max_bytes=256 * 1024, max_line_chars=1000))
    manager = IncidentManager(engine, topology, config)
    # A detector's evidence may quote log text too (an SSH error, a line).
    found = finding("postgres", "db-01", 0, template_id=1)
    found = dataclasses.replace(found, evidence={"line": SHAPES[0][0]})
    [opened] = manager.process([found], at(3))
    stored = manager.get(opened.incident.id)
    assert stored is not None and stored.bundle is not None
    bundle = json.dumps(stored.bundle.to_json())
    assert len(stored.bundle.samples) == len(lines)  # every line is quoted ...
    shown = CliRunner().invoke(
        app, ["incidents", "show", str(opened.incident.id), "--json", "--db", db_url]
    )
    assert shown.exit_code == 0, shown.output
    for shown_text in (bundle, shown.stdout):
        for _, secret, _ in SHAPES:
            assert secret not in shown_text  # ... and not one secret with them
        assert "MIIEpAIBAAKCAQEA" not in shown_text
        assert "discord.com/api/webhooks/<redacted>" in shown_text


# -- hostile text: redaction runs in linear time ---------------------------------------------


@pytest.mark.parametrize(
    "unit",
    ["a", "a.", "a-", "x://", "a:", "/", "/hooks/", "a@", "@a.", "password", "https://",
     "bot1:", "eyJ", '="', "token ", "-----BEGIN ", "aws_secret_", "ghp_", "sk-", "1"],
)  # fmt: skip
def test_a_64_kib_line_of_one_repeated_shape_is_redacted_at_once(unit: str) -> None:
    """Every rule starts at a word's start and scans forward: no rule backtracks over
    a long word from each of its characters (a 10 KiB word once took 7 s)."""
    text = (unit * (65536 // len(unit) + 1))[:65536]
    # A guard against a hang, not a speed check: about 10 ms on a laptop, while a
    # backtracking rule grows with the square of the word (minutes at 64 KiB).
    signal.signal(signal.SIGALRM, _hung)
    signal.alarm(60)
    try:
        redact(text, emails=True)
    finally:
        signal.alarm(0)


def _hung(signum: int, frame: object) -> None:
    raise AssertionError("redact() backtracks: a 64 KiB word took over a minute")


def test_a_findings_summary_quotes_template_text_redacted() -> None:

    token = "Qw3rTy-uIoP_aSdFgHjKl0987654321zxcvbnmQWERTYUIOPasdfghjklZXCVBN"
    text = f"notify: POST https://discord.com/api/webhooks/112233445566778899/{token} failed"
    summary = clip(text)
    assert token not in summary and "<redacted>" in summary


# Real lines with a key word but no key-value (serverlog_auth.log, plemma_syslog.log):
# sshd, PAM and cron name passwords, keys and sessions all day without holding one.
KEY_WORDS_ONLY = [
    "Failed password for invalid user admin from 185.14.30.12 port 52232 ssh2",
    "Accepted publickey for deploy from 10.0.0.7 port 50122 ssh2: RSA SHA256:x1Yc",
    "pam_unix(cron:session): session opened for user root by (uid=0)",
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh",
    "Received disconnect from 61.177.172.13 port 35446:11:  [preauth]",
]


@pytest.mark.parametrize("line", KEY_WORDS_ONLY)
def test_a_key_word_without_a_value_is_not_a_secret_and_skips_the_rules(line: str) -> None:
    assert not might_hold_secret(line)
    assert redact(line) == _every_rule(line) == line


# Real lines full of colons that hold no secret (plemma_syslog.log's UFW blocks, an
# IPv6 address), and one whose 30 characters after a colon follow no digit: the bot
# token's quick test lets the last through, its rule still keeps it as it is.
COLONS = [
    "[UFW BLOCK] IN=ens3 OUT= MAC=56:00:03:85:82:df:fe:00:03:85:82:df:08:00 "
    "SRC=152.44.42.69 DST=158.247.223.84 LEN=52 TOS=0x02 PREC=0x00 TTL=110 ID=24636 DF "
    "PROTO=TCP SPT=47378 DPT=25 WINDOW=64240 RES=0x00 CWR ECE SYN URGP=0",
    "[UFW BLOCK] IN=ens3 OUT= MAC=56:00:03:85:82:df:fe:00:03:85:82:df:86:dd "
    "SRC=2001:0470:0001:0018:0000:0000:0000:0002 DST=2001:19f0:4400:6b6c:5400:03ff:fe85:82df",
    "Accepted publickey for deploy from 10.0.0.7 port 50122 ssh2: ED25519 "
    "SHA256:x1YcQ2mWcJ8kTtV0bq3ZsZr4AfyLq9oKpR5nDd7Hh0E",
]


@pytest.mark.parametrize("line", COLONS)
def test_colons_without_a_bot_token_are_kept(line: str) -> None:
    assert redact(line) == _every_rule(line) == line


def test_the_bot_tokens_quick_test_lets_its_tokens_through() -> None:
    line = "GET https://api.telegram.org/bot110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe"
    assert might_hold_secret(line)
    assert "AAHdqTcv" not in redact(line)
    token = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    assert might_hold_secret(f"id 110201543:{token[:30]}")
    assert not might_hold_secret(f"id 110201543:{token[:29]}")  # shorter than a token


# Keys with the key word deep inside (`private_key`: 8 characters in) among bare key
# words, then a separator and a value: the quick test must let through every text a rule
# changes.
_KEYS_WRITTEN = [
    "private_key", "refresh_token", "client-secret", "access_key", "session_id", "api-key",
    "apikey", "auth_token", "passphrase", "passwd", "credentials", "pwd", "x_private-key",
]  # fmt: skip
_AROUND = st.lists(
    st.sampled_from(["key", "session", "pass", " ", "x", "_", "/", "v1"]), max_size=4
)
_SECRET_LIKE = st.tuples(
    _AROUND.map("".join),
    st.sampled_from(_KEYS_WRITTEN),
    st.sampled_from(["=", " = ", ":", "': ", '"=', " "]),
    st.sampled_from(["value12345678", "'x y'", "/etc/x", ""]),
    _AROUND.map("".join),
).map("".join)


@settings(max_examples=400, deadline=None, database=None)
@given(_SECRET_LIKE)
def test_the_quick_test_lets_through_every_text_a_rule_changes(text: str) -> None:
    assert might_hold_secret(text) or _every_rule(text) == text
