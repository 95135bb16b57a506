"""The findings of `silence`: a service silent against its rhythm or its heartbeat, and
a host that stopped logging. Their summaries say since when, and against what."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from detector.detectors._common import fmt, from_minute
from logvigil.core.events import Severity
from logvigil.core.findings import Finding

DETECTOR = "silence"


def _against(judged: tuple[float, str]) -> tuple[str, dict[str, Any]]:
    """What the silence is judged against, in words, and as evidence."""
    ref, scope = judged
    hour = scope == "hour"
    if ref < 1:
        words = "it logged in every minute " + ("around this hour" if hour else "of the day")
    else:
        words = f"its longest gap {'around this hour' if hour else 'in a day'} was {fmt(ref)} min"
    return words, {"longest_gap_minutes": ref, "judged_over": scope}


def _how(silent: int, end: int, resumed: bool, evidence: dict[str, Any]) -> str:
    if not resumed:
        return f"silent for {silent} min"
    evidence["resumed_at"] = from_minute(end).isoformat()
    return f"was silent for {silent} min until {from_minute(end):%H:%M}"


def service_finding(
    svc: str,
    host: str,
    *,
    last: int | None,
    start: int,
    end: int,
    now: datetime,
    judged: tuple[float, str] | None = None,
    every: timedelta | None = None,
    resumed: bool = False,
) -> Finding:
    """`svc` on `host`, last heard at minute `last` (None: never, watched since `start`
    + 1), silent from `start` + 1: still at window end `end`, or until it logged again
    at minute `end` when `resumed`. Judged against its heartbeat `every`, else against
    `judged` (the largest gap and its scope, "hour" or "day")."""
    silent = end - start - 1
    evidence: dict[str, Any] = {"silent_minutes": silent}
    if last is None:
        evidence["watched_since"] = from_minute(start + 1).isoformat()
        since = f"no line since watching began at {from_minute(start + 1):%H:%M}"
    else:
        evidence["last_seen"] = from_minute(last).isoformat()
        since = f"last line {from_minute(last):%H:%M}"
    if every is not None:
        evidence["expected_every"] = duration_text(every)
        why = f"expected every {evidence['expected_every']}"
    else:
        why, more = _against(judged or (0.0, "day"))
        evidence.update(more)
    how = _how(silent, end, resumed, evidence)
    return Finding(
        detector=DETECTOR,
        at=now,
        started_at=from_minute(start + 1),
        service=svc,
        host=host,
        severity=Severity.WARNING,
        summary=f"{svc} on {host} {how} ({since}; {why})",
        kind="silent_service",
        evidence=evidence,
    )


def host_finding(
    host: str,
    *,
    last: int,
    last_service: str,
    end: int,
    now: datetime,
    judged: tuple[float, str] | None,
    resumed: bool = False,
) -> Finding:
    """`host` logged nothing after minute `last` (its last line from `last_service`)."""
    silent = end - last - 1
    evidence: dict[str, Any] = {
        "silent_minutes": silent,
        "last_seen": from_minute(last).isoformat(),
        "last_service": last_service,
    }
    why, more = _against(judged or (0.0, "day"))
    evidence.update(more)
    how = _how(silent, end, resumed, evidence)
    return Finding(
        detector=DETECTOR,
        at=now,
        started_at=from_minute(last + 1),
        service=None,
        host=host,
        severity=Severity.ERROR,
        summary=(
            f"{host} stopped logging at {from_minute(last):%H:%M} (last from {last_service}); "
            f"{how}; {why}"
        ),
        kind="silent_host",
        evidence=evidence,
    )


def duration_text(every: timedelta) -> str:
    """`30s`, `5m`, `2h`, `1d`: a heartbeat period as the inventory writes it."""
    s = int(every.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size and s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"
