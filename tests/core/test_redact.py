"""Secrets out of text and URLs: one module, real shapes."""

from __future__ import annotations

import pytest

from logvigil.core.redact import (
    REDACTED,
    clean_line,
    display_url,
    hide_url_password,
    redact,
)

HOOK = "https://discord.com/api/webhooks/1234567890/AbCdEf_token-XYZ"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://user:s3cret@db:6379/0", "redis://user:***@db:6379/0"),
        ("falkordb://:s3cret@db:6379", "falkordb://***@db:6379"),
        (
            "postgresql+psycopg://logvigil:hunter2@db-01/logvigil",
            "postgresql+psycopg://logvigil:***@db-01/logvigil",
        ),
        ("mysql+pymysql://root@127.0.0.1:3306/test", "mysql+pymysql://root@127.0.0.1:3306/test"),
        ("sqlite:////var/lib/logvigil/logvigil.db", "sqlite:////var/lib/logvigil/logvigil.db"),
        ("redis://u:p@[::1]:6379", "redis://u:***@[::1]:6379"),
    ],
)
def test_hide_url_password_hides_only_the_password(url: str, shown: str) -> None:
    assert hide_url_password(url) == shown


def test_an_unparsable_url_is_not_echoed() -> None:
    assert hide_url_password("postgresql://u:hunter2@db:notaport/x") == "<unparsable URL>"


def test_display_url_shortens_without_user_query_or_fragment() -> None:
    assert (
        display_url("https://bob:pw@loki.example:3100/x/?token=abc#f")
        == "https://loki.example:3100/x/"
    )
    assert display_url("http://[::1]:3100") == "http://[::1]:3100"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("login ok password=hunter2 user=bob", "hunter2"),
        ('{"api_key": "AKIA1234567890"}', "AKIA1234567890"),
        ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"),
        ("connect postgresql://app:s3cr3t@db-01/app", "s3cr3t"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.sig_part-1", "eyJhbGciOiJIUzI1NiJ9"),
    ],
)
def test_redact_removes_credentials_from_log_text(line: str, secret: str) -> None:
    out = redact(line)
    assert secret not in out and REDACTED in out


def test_webhook_urls_are_hidden_in_log_text_and_in_our_own_logs() -> None:
    out = redact(f"posting to {HOOK} failed")
    assert "AbCdEf_token" not in out and "1234567890" not in out
    assert out == f"posting to https://discord.com/api/webhooks/{REDACTED} failed"


def test_clean_line_redacts_before_cutting_so_half_a_secret_is_never_shown() -> None:
    line = "x" * 30 + " password=hunter2hunter2"
    out = clean_line(line, 40)
    assert "hunter" not in out and len(out) <= 40


def test_email_addresses_are_kept_unless_asked() -> None:
    assert "bob@example.com" in redact("mail to bob@example.com")
    assert "bob@example.com" not in redact("mail to bob@example.com", emails=True)
