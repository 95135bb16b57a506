"""A line that names no host belongs to the source that read it, never to the machine
the daemon runs on (issue 11: JSONL without a host took the daemon's own hostname)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from logvigil.app.sources import SourcePool, default_host
from logvigil.ingest.ingestor import Ingestor
from logvigil.ingest.noise import NoiseFilter
from logvigil.ingest.sources.file import FileSourceConfig, FileTail
from migrations.apply import open_engine

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "host"),
    [
        ("file:/var/log/cowrie/cowrie.json", "cowrie"),
        ("edge-proxy", "edge-proxy"),  # a configured name is kept whole
        ("web.example.org", "web.example.org"),
        ("stdin", "stdin"),
    ],
)
def test_the_default_host_is_the_sources_name(name: str, host: str) -> None:
    assert default_host(name) == host


@pytest.mark.parametrize(("name", "expected"), [(None, "honeypot"), ("sensor-7", "sensor-7")])
def test_a_followed_jsonl_file_without_hosts_is_stored_under_the_source(
    tmp_path: Path, name: str | None, expected: str
) -> None:
    log = tmp_path / "honeypot.json"
    # A real Cowrie event: no host field at all.
    log.write_text(
        '{"eventid": "cowrie.login.failed", "username": "root", "password": "1234", '
        '"message": "login attempt [root/1234] failed", "sensor": "a1b2", '
        '"timestamp": "2018-05-06T17:44:03.123456Z", "src_ip": "198.51.100.7"}\n'
    )
    engine = open_engine(f"sqlite:///{tmp_path / 'lv.db'}")
    spec = FileSourceConfig(type="file", path=log, format="jsonl", name=name)
    pool = SourcePool([FileTail.from_config(spec, None)], clock=lambda: NOW)
    ingestor = Ingestor(engine, NoiseFilter([]))
    pool.poll_all(ingestor)
    ingestor.flush()
    with engine.connect() as conn:
        hosts = conn.execute(text("SELECT DISTINCT host FROM events")).scalars().all()
    assert hosts == [expected]
