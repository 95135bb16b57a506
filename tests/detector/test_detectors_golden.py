"""Golden findings: `golden/findings/<case>.jsonl` (a few hours of per-minute count
rows) runs through every detector minute by minute, with the state stored as
JSON between ticks, and must give exactly `<case>.expected.json`.

Case file, one JSON object per line: the first is the header (`start`, `end`,
`config` for `DetectorsConfig`, `templates` id -> text, `services` name ->
{hosts, quiet}, an optional `comment`); every other line is a count row for one
`minute` ("HH:MM" on the start's day, or an ISO time) or for each minute of
[`from`, `to`) (every `every` minutes), with `host`, `service`, `template_id`,
`severity`, `count`, and `new: true` when it is that pair's first sighting.

Regenerate after an intended change with LOGVIGIL_TEST_UPDATE_GOLDEN=1 and review
the diff.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from detector.detectors import DetectorsConfig, build_detectors
from detector.detectors.base import CountRow, ServiceInfo, Window
from logvigil.core.events import Severity
from logvigil.core.findings import Finding

GOLDEN = Path(__file__).parent / "golden" / "findings"
CASES = sorted(p.stem for p in GOLDEN.glob("*.jsonl"))
MIN = timedelta(minutes=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time(text: str, day: datetime) -> datetime:
    if len(text) == 5:  # HH:MM
        return day.replace(hour=int(text[:2]), minute=int(text[3:]))
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def load_case(path: Path) -> tuple[dict[str, Any], dict[datetime, list[CountRow]], dict]:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    header, specs = lines[0], lines[1:]
    start = parse_time(header["start"], EPOCH)
    rows: dict[datetime, list[CountRow]] = defaultdict(list)
    new: dict[datetime, dict[tuple[str, int], datetime]] = defaultdict(dict)
    for spec in specs:
        if "minute" in spec:
            minutes = [parse_time(spec["minute"], start)]
        else:
            first, stop = parse_time(spec["from"], start), parse_time(spec["to"], start)
            step = spec.get("every", 1)
            minutes = [first + i * MIN for i in range(0, int((stop - first) / MIN), step)]
        for m in minutes:
            rows[m].append(
                CountRow(
                    m,
                    spec["host"],
                    spec["service"],
                    spec["template_id"],
                    Severity.parse(spec["severity"]),
                    spec["count"],
                )
            )
            if spec.get("new"):
                new[m][(spec["service"], spec["template_id"])] = m
    return header, rows, new


def as_json(f: Finding) -> dict[str, Any]:
    return {
        "detector": f.detector,
        "at": f.at.isoformat(),
        "started_at": f.started_at.isoformat(),
        "service": f.service,
        "host": f.host,
        "severity": f.severity.label,
        "kind": f.kind,
        "template_id": f.template_id,
        "key": f.key,
        "summary": f.summary,
        "evidence": json.loads(json.dumps(dict(f.evidence))),
    }


def run_case(path: Path) -> list[dict[str, Any]]:
    header, rows, new = load_case(path)
    start = parse_time(header["start"], EPOCH)
    end = parse_time(header["end"], start)
    templates = {int(k): v for k, v in header.get("templates", {}).items()}
    services = {
        name: ServiceInfo(name, tuple(s.get("hosts", ())), bool(s.get("quiet", False)))
        for name, s in header.get("services", {}).items()
    }
    detectors = build_detectors(DetectorsConfig.model_validate(header.get("config", {})))
    state: dict[str, Any] = {d.name: {} for d in detectors}
    out: list[dict[str, Any]] = []
    m = start
    while m < end:
        w = Window(m, m + MIN, tuple(rows.get(m, ())), templates, new.get(m, {}), services)
        for d in detectors:
            found, new_state = d.evaluate(w, state[d.name], w.end)
            state[d.name] = json.loads(json.dumps(new_state))
            out += [as_json(f) for f in found]
        m += MIN
    return out


@pytest.mark.parametrize("case", CASES)
def test_golden_rows_give_the_expected_findings(case: str) -> None:
    got = run_case(GOLDEN / f"{case}.jsonl")
    expected_path = GOLDEN / f"{case}.expected.json"
    if os.environ.get("LOGVIGIL_TEST_UPDATE_GOLDEN") or not expected_path.exists():
        expected_path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
        if not os.environ.get("LOGVIGIL_TEST_UPDATE_GOLDEN"):
            pytest.fail(f"wrote missing {expected_path.name}; review it and re-run")
    assert got == json.loads(expected_path.read_text())


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 3
