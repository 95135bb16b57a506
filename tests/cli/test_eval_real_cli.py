"""`logvigil eval --real DIR`: a labelled log replayed and scored end to end, and a
broken label file reported with its name instead of a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from logvigil.cli import app

runner = CliRunner()

# A quiet host, then the kernel's panic line (kernel/panic.c's wording).
LOG = (
    "".join(
        f"Mar  4 10:{m:02d}:00 box CRON[{100 + m}]: (root) CMD (run-parts /etc/cron.hourly)\n"
        for m in range(0, 50, 5)
    )
    + "Mar  4 10:52:10 box kernel: Kernel panic - not syncing: Fatal exception\n"
)

LABELS = """\
file: box.log
format: syslog
timezone_of_timestamps: UTC
year: 2024
span: {start: "03-04 10:00:00", end: "03-04 10:52:10"}
must_page:
  - id: panic
    start: "03-04 10:52:10"
    end:   "03-04 10:52:10"
    kind: crash
    host: box
    services: [kernel]
may_page: []
"""


def test_a_labelled_log_is_replayed_and_scored(tmp_path: Path) -> None:
    (tmp_path / "box.log").write_text(LOG)
    (tmp_path / "box.log.labels.yaml").write_text(LABELS)
    result = runner.invoke(app, ["eval", "--real", str(tmp_path), "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    report = json.loads(result.stdout)
    (scored,) = report["files"]
    assert (scored["must_page"], scored["found"], scored["false_pages"]) == (1, 1, 0)
    assert result.exit_code == 0 and report["passed"] is True


def test_a_broken_label_file_is_named_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "box.log").write_text(LOG)
    (tmp_path / "box.log.labels.yaml").write_text(LABELS.replace("year: 2024", "year: soon"))
    result = runner.invoke(app, ["eval", "--real", str(tmp_path)])
    assert isinstance(result.exception, SystemExit) and result.exit_code != 0
    assert "box.log.labels.yaml" in result.output and "year" in result.output
