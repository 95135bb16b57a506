"""new_template: an error template a service has never logged before.

The store records the first sighting of every (service, template) pair and the
window hands over those that fall inside it (`Window.new_pairs`). A pair fires
when the template was logged at `min_severity` or worse in this window and its
service had finished learning at the first sighting: every template a service
logged during its learning period is known, so none of them ever fires.

Dedup is structural: a pair is first seen once. A template first seen at INFO
and logged at ERROR later is not new and does not fire (error_spike may).

State, per service: `{"v", "s": first minute the service was seen}`; written
once per service, so a restart neither re-learns nor re-alerts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import Field

from detector.detectors._common import (
    DEFAULT_LEARNING_HOURS,
    clip,
    from_minute,
    is_minute,
    one_host,
    to_minute,
    versioned,
)
from detector.detectors.base import ActsOnLines, State, StateDraft, Window
from logvigil.core.configbase import SeverityName, Strict
from logvigil.core.events import Severity
from logvigil.core.findings import Finding
from logvigil.core.timeutil import utc


class NewTemplateConfig(Strict):
    """Knobs of `new_template`."""

    enabled: bool = True
    #: A new template fires when it was logged at this severity or worse.
    min_severity: SeverityName = Severity.ERROR
    #: Observation before a service's new templates count; None: the global one.
    learning_period_hours: Annotated[float | None, Field(ge=0, le=24 * 365)] = None


class NewTemplate(ActsOnLines):
    """Fires on the first sighting of an error template in a service that has learnt."""

    config_model: ClassVar[type[Strict]] = NewTemplateConfig
    name: ClassVar[str] = "new_template"
    state_version: ClassVar[int] = 1

    def __init__(self, config: NewTemplateConfig | None = None) -> None:
        self.config = config if config is not None else NewTemplateConfig()
        hours = self.config.learning_period_hours
        self._learning = round(60 * (DEFAULT_LEARNING_HOURS if hours is None else hours))

    def needs_tick(self, window: Window, state: State) -> bool:
        """A first sighting is judged in its minute's tick: by the lines of that minute,
        not by later ones of a worse severity."""
        return bool(window.new_pairs)

    def evaluate(
        self, window: Window, state: State, now: datetime
    ) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
        """Return the new error templates of `window` and the new state."""
        new_state = StateDraft(state)
        version = self.state_version

        # Learning starts at a service's first row.
        since: dict[str, int] = {}
        unseen: dict[str, int] = {}
        for svc in {r.service for r in window.rows}:
            raw = versioned(state, svc, version)
            if raw is not None and is_minute(raw.get("s")):
                since[svc] = raw["s"]
            else:
                unseen[svc] = 1 << 62
        if unseen:
            for r in window.rows:
                first = unseen.get(r.service)
                if first is not None:
                    minute = to_minute(r.minute)
                    if minute < first:
                        unseen[r.service] = minute
            for svc, minute in unseen.items():
                since[svc] = minute
                new_state[svc] = {"v": version, "s": minute}

        if not window.new_pairs:
            return [], new_state

        # Severity, count and hosts of each new pair in this window.
        pairs = window.new_pairs
        tids = {tid for _, tid in pairs}
        seen: dict[tuple[str, int], list[Any]] = {}
        for r in window.rows:
            if r.template_id not in tids:
                continue
            pair = (r.service, r.template_id)
            if pair not in pairs:
                continue
            cell = seen.get(pair)
            if cell is None:
                cell = seen[pair] = [r.severity, 0, set()]
            elif r.severity > cell[0]:
                cell[0] = r.severity
            cell[1] += r.count
            cell[2].add(r.host)

        findings: list[Finding] = []
        for pair in sorted(seen, key=lambda p: (pairs[p], p)):
            sev, count, hosts = seen[pair]
            svc, tid = pair
            if sev < self.config.min_severity or svc not in since:
                continue
            first_at = utc(pairs[pair])
            minute = to_minute(first_at)
            learnt = minute > since[svc] and minute - since[svc] >= self._learning
            if not learnt:
                continue
            text = window.templates.get(tid)
            what = f": {clip(text)}" if text else ""
            findings.append(
                Finding(
                    detector=self.name,
                    at=now,
                    started_at=first_at,
                    service=svc,
                    host=one_host(hosts),
                    severity=Severity(sev),
                    summary=f"{svc}: first-seen {Severity(sev).name} template #{tid}{what}",
                    template_id=tid,
                    evidence={
                        "count": count,
                        "hosts": sorted(hosts),
                        "severity": Severity(sev).label,
                        "learning_started_at": from_minute(since[svc]).isoformat(),
                    },
                )
            )
        return findings, new_state
