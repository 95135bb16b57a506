"""The typed context bundle reads every stored shape and writes it back unchanged."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from detector.incidents.context import ContextBundle
from logvigil.core.events import Severity

#: A bundle as `build_bundle` stores it (a backtested full disk), key order included.
STORED: dict[str, Any] = {
    "version": 1,
    "incident": {"id": 2, "title": "backup disk full on nas-01"},
    "window": {
        "start": "2026-03-03T02:30:00+00:00",
        "onset": "2026-03-03T03:00:00+00:00",
        "end": "2026-03-03T03:01:00+00:00",
        "before_minutes": 30,
        "during_minutes": 1.0,
    },
    "services": ["backup"],
    "hosts": ["nas-01"],
    "findings": [
        {
            "detector": "primitive",
            "service": "backup",
            "host": "nas-01",
            "at": "2026-03-03T03:01:00+00:00",
            "started_at": "2026-03-03T03:00:00+00:00",
            "severity": "critical",
            "kind": "disk_full",
            "template_id": 39,
            "summary": "backup on nas-01: disk full (template #39)",
            "evidence": {"count": 1, "template_ids": [39]},
        }
    ],
    "root": {
        "root": {"service": "backup", "host": "nas-01"},
        "candidates": [
            {
                "subject": "backup",
                "service": "backup",
                "host": "nas-01",
                "first_at": "2026-03-03T03:00:00+00:00",
                "score": 50.0,
                "dependants": [],
                "primitive": "disk_full",
                "host_level": False,
                "breakdown": {
                    "host_level": 0.0,
                    "dependants": 0.0,
                    "primitive": 30.0,
                    "earliest": 20.0,
                },
            }
        ],
        "blast_radius": [],
    },
    "templates": {
        "backup": [
            {
                "template_id": 39,
                "template": "Fatal: unable to save snapshot: write /srv/backup/<*>: no space left",
                "severity": "critical",
                "before": 0,
                "during": 1,
            }
        ]
    },
    "first_seen": [
        {
            "service": "backup",
            "template_id": 39,
            "template": "Fatal: unable to save snapshot: write /srv/backup/<*>: no space left",
            "first_seen": "2026-03-03T03:00:40.997000+00:00",
            "count": 1,
            "severity": "critical",
        }
    ],
    "samples": [
        {
            "ts": "2026-03-03T03:00:40.997000+00:00",
            "host": "nas-01",
            "service": "backup",
            "severity": "critical",
            "template_id": 39,
            "line": "Fatal: unable to save snapshot: write /srv/backup/3f: no space left on device",
        }
    ],
    "neighbourhood": {
        "backup": {
            "service": "backup",
            "declared": True,
            "type": "batch",
            "hosts": ["nas-01"],
            "depends_on": [],
            "calls": ["postgres"],
            "upstream": ["postgres"],
            "blast_radius": [],
            "co_hosted": {"nas-01": ["kernel", "nfs", "sshd"]},
        },
        "cron": {"service": "cron", "declared": False},
    },
    "restarts": [
        {
            "ts": "2026-03-03T03:00:41.197000+00:00",
            "host": "nas-01",
            "service": "backup",
            "line": "restic-backup.service: Main process exited, code=exited, status=1/FAILURE",
        }
    ],
    "trimmed": {},
}


def test_a_stored_bundle_reads_back_typed_and_writes_the_same_json() -> None:
    bundle = ContextBundle.from_json(STORED)
    assert json.dumps(bundle.to_json()) == json.dumps(STORED)
    assert bundle.window is not None
    assert bundle.window.onset == datetime(2026, 3, 3, 3, tzinfo=UTC)
    assert bundle.findings[0].severity is Severity.CRITICAL
    assert (bundle.root.service, bundle.root.host) == ("backup", "nas-01")
    assert bundle.templates["backup"][0].during == 1
    assert bundle.neighbourhood["backup"].upstream == ("postgres",)
    assert bundle.neighbourhood["cron"].declared is False
    assert bundle.samples[0].line.endswith("no space left on device")


def test_a_bundle_cut_to_its_last_resort_keeps_its_shape() -> None:
    stored = copy.deepcopy(STORED)
    stored["findings"] = []
    stored["root"] = {"root": stored["root"]["root"], "candidates": []}
    stored["trimmed"] = {"samples": 1, "everything": 1}
    bundle = ContextBundle.from_json(stored)
    assert bundle.root.blast_radius is None
    assert json.dumps(bundle.to_json()) == json.dumps(stored)


def test_a_missing_section_reads_as_empty() -> None:
    bundle = ContextBundle.from_json({"version": 1, "incident": {"id": 7, "title": "t"}})
    assert bundle.incident_id == 7 and bundle.window is None
    assert bundle.findings == () and bundle.samples == () and bundle.templates == {}
    assert bundle.root.service is None and bundle.root.candidates == ()
