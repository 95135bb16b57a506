"""Incidents and reports as `Notification`s (pure; no channel-specific formatting).

Every text here is plain text: names and lines from the logs go in as they are,
and each channel makes them inert (`notify.discord.render` escapes Markdown and
shows log lines as code; e-mail defangs URLs). Log lines and commands are
`code` sections. The report's Markdown is rendered again from the report, so a
report stored by an older version goes out with today's escaping. A supervisor
(`systemd`, `init`, ...) is never listed in a blast radius.
"""

from __future__ import annotations

from datetime import datetime

from detector.incidents.model import Incident
from investigate.analysis.impact import SUPERVISORS
from investigate.analysis.wording import without_subject
from investigate.model import Report, confidence_label
from investigate.report_md import render_markdown
from notify.base import Notification, NotificationKind, Section

#: Findings listed as evidence in an "opened" message.
MAX_EVIDENCE = 8
#: Services listed in a blast radius before "and N more".
MAX_BLAST = 20


def replay_command(incident_id: int) -> str:
    return f"investigate --incident {incident_id}"


def _list(names: tuple[str, ...] | list[str], limit: int = MAX_BLAST) -> str:
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _affected(names: tuple[str, ...] | list[str]) -> list[str]:
    """`names` without the supervisors: they report a unit's failure, they do not suffer it."""
    return [n for n in names if n not in SUPERVISORS]


def _hm(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def incident_opened(incident: Incident, now: datetime) -> Notification:
    evidence = [
        f"{f.detector} · {f.subject}{' on ' + f.host if f.host and f.service else ''}: "
        + without_subject(f.summary, f.service, f.host)
        for f in incident.findings[:MAX_EVIDENCE]
    ]
    if len(incident.findings) > MAX_EVIDENCE:
        evidence.append(f"... and {len(incident.findings) - MAX_EVIDENCE} more findings")
    sections = [
        Section("Suspected root cause", str(incident.root) if incident.root else "not known yet"),
        Section("Confidence", "pending investigation", inline=True),
        Section("Severity", incident.severity.label, inline=True),
        Section("Blast radius", _list(_affected(incident.blast_radius))),
        Section("Evidence", "\n".join(evidence) or "none", code=bool(evidence)),
        Section("Replay", replay_command(incident.id), code=True),
    ]
    return Notification(
        kind=NotificationKind.OPENED,
        title=incident.title,
        summary=(
            f"Incident {incident.id} opened {_hm(incident.opened_at)} · "
            f"services: {_list(incident.services)} · hosts: {_list(incident.hosts)}"
        ),
        severity=incident.severity,
        incident_id=incident.id,
        sections=tuple(sections),
        created_at=now,
    )


def incident_resolved(incident: Incident, now: datetime) -> Notification:
    end = incident.resolved_at or now
    minutes = max(int((end - incident.opened_at).total_seconds() // 60), 0)
    return Notification(
        kind=NotificationKind.RESOLVED,
        title=f"Resolved: {incident.title}",
        summary=f"Incident {incident.id} resolved {_hm(end)} after {minutes} min.",
        severity=incident.severity,
        incident_id=incident.id,
        sections=(Section("Replay", replay_command(incident.id), code=True),),
        created_at=now,
    )


def report_ready(incident: Incident | None, report: Report, now: datetime) -> Notification:
    """The investigation's report: root cause, confidence, blast radius, evidence,
    replay command; the full Markdown goes along (attached on Discord)."""
    rc = report.root_cause
    if rc is None or report.no_root_cause:
        root, confidence = "No root cause found.", "n/a"
    else:
        where = " on ".join(x for x in (rc.service, rc.host) if x)
        said = without_subject(rc.summary, rc.service, rc.host)
        # Each fact once: a summary that opens with its subject is not prefixed again.
        root = f"{where}: {said}" if where and not said.startswith(where) else said
        confidence = f"{confidence_label(rc.confidence)} ({rc.confidence:.2f})"
    blast = [f"{i.service} ({i.status})" for i in report.impact if i.service not in SUPERVISORS]
    if not blast and incident is not None:
        blast = _affected(incident.blast_radius)
    evidence = []
    for ev in report.evidence[:MAX_EVIDENCE]:
        where = " on ".join(x for x in (ev.service, ev.host) if x)
        sample = ev.samples[0] if ev.samples else (ev.template or ev.note)
        evidence.append(f"{ev.id} {where}: {sample}".strip())
    markdown = render_markdown(report)
    severity = incident.severity if incident is not None else None
    return Notification(
        kind=NotificationKind.REPORT,
        title=report.title or (incident.title if incident else f"incident {report.incident_id}"),
        summary=f"Report on incident {report.incident_id} (model {report.model}).",
        severity=severity,
        incident_id=report.incident_id,
        sections=(
            Section("Root cause", root),
            Section("Confidence", confidence, inline=True),
            Section("Blast radius", _list(blast)),
            Section("Evidence", "\n".join(evidence) or "none", code=bool(evidence)),
            Section("Replay", replay_command(report.incident_id), code=True),
        ),
        markdown=markdown,
        created_at=now,
        attachment_name=f"incident-{report.incident_id}.md",
    )


def test_message(now: datetime) -> Notification:
    return Notification(
        kind=NotificationKind.TEST,
        title="LogVigil test message",
        summary=f"If you can read this, notifications reach this channel ({_hm(now)}).",
        created_at=now,
    )
