"""The store the web tests read: the demo's, with hostile lines ingested beside it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from logvigil.cli import app as cli_app
from logvigil.evaluation.demo import run_demo

runner = CliRunner()

#: Log text written to hurt: markup, a script, a javascript: link, Markdown, mentions.
HOSTILE = (
    "<script>alert('x')</script> evil template",
    '<img src=x onerror="alert(1)"> broken image',
    "[click here](javascript:alert(1)) to fix",
    "@everyone **URGENT** </td></tr><tr><td>injected",
)


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{tmp / 'demo.db'}"
    run_demo(3, db_url=url)
    lines = tmp / "hostile.jsonl"
    lines.write_text(
        "".join(
            json.dumps(
                {
                    "ts": f"2026-03-04T10:0{i}:00Z",
                    "host": "web-01",
                    "service": "nginx",
                    "severity": "error",
                    "message": m,
                }
            )
            + "\n"
            for i, m in enumerate(HOSTILE)
        )
    )
    r = runner.invoke(cli_app, ["ingest", str(lines), "--format", "jsonl", "--db", url])
    assert r.exit_code == 0, r.output
    return url
