"""Local times in a daylight-saving change: an hour that happens twice is read as its
first occurrence, one that never happens is shifted forward; both are marked on the
event, counted, and shown by `stats`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from logvigil.cli import app
from logvigil.core.events import LogEvent
from logvigil.ingest.formats import ReadOptions, read_events
from logvigil.ingest.formats._common import DST

NY = ZoneInfo("America/New_York")
# serverlog_auth.log: US Eastern; 2016-03-13 has no 02:xx, 2016-11-06 has two 01:xx.
LINES = [
    b"Mar 13 01:59:14 capstonealzheimer sshd[4810]: Accepted password for root from 73.231.246.27 port 50511 ssh2\n",
    b"Mar 13 02:30:00 capstonealzheimer CRON[4811]: pam_unix(cron:session): session opened for user root by (uid=0)\n",
    b"Mar 13 03:00:11 capstonealzheimer sshd[4812]: Accepted password for root from 73.231.246.27 port 50512 ssh2\n",
]
# ... and the autumn change of the same year, read on its own (eight months on).
OVERLAP = [
    b"Nov  6 01:30:00 capstonealzheimer CRON[4813]: pam_unix(cron:session): session opened for user root by (uid=0)\n",
]


def events(lines: list[bytes] = LINES) -> list[LogEvent]:
    opts = ReadOptions(naive_tz=NY, year=2016)
    out = [e for e in read_events(lines, "syslog", opts) if isinstance(e, LogEvent)]
    assert len(out) == len(lines)
    return out


def test_a_time_that_never_happened_is_shifted_forward_and_marked() -> None:
    before, gap, after = events()
    assert before.ts == datetime(2016, 3, 13, 6, 59, 14, tzinfo=UTC)
    assert gap.ts == datetime(2016, 3, 13, 7, 30, tzinfo=UTC)  # 03:30 EDT
    assert after.ts == datetime(2016, 3, 13, 7, 0, 11, tzinfo=UTC)
    assert gap.attributes[DST] == "dst_gap"
    assert DST not in before.attributes and DST not in after.attributes


def test_a_time_that_happened_twice_is_its_first_occurrence_and_marked() -> None:
    (overlap,) = events(OVERLAP)
    assert overlap.ts == datetime(2016, 11, 6, 5, 30, tzinfo=UTC)  # 01:30 EDT, not EST
    assert overlap.attributes[DST] == "dst_overlap"


def test_the_cases_are_counted_and_shown_by_stats(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    runner = CliRunner()
    for name, lines in (("auth.log", LINES), ("autumn.log", OVERLAP)):
        log = tmp_path / name
        log.write_bytes(b"".join(lines))
        args = ["ingest", str(log), "--db", db, "--timezone", "America/New_York", "--year", "2016"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    stats = json.loads(runner.invoke(app, ["stats", "--db", db, "--json"]).stdout)
    assert stats["time_adjusted"] == {"dst_gap": 1, "dst_overlap": 1}
    assert "daylight-saving" in runner.invoke(app, ["stats", "--db", db]).output
