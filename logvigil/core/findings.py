"""What a detector says: a `Finding`, the typed value between detection and incidents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from logvigil.core.events import Severity

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Finding:
    """One anomaly, found by one detector at one tick.

    `at` is the tick that found it (the end of the evaluated window);
    `started_at` the earliest evidence (first anomalous minute, first line).
    `service` is None for a host-level finding (a whole host went silent);
    `host` is None when the anomaly spans a service's hosts. `template_id`
    names the template behind it when there is one; `kind` sub-classifies
    (the primitive's name: `oom_kill`, `disk_full`, ...). `evidence` holds
    JSON-able numbers (count, baseline mean and deviation, expected count)
    for the report.
    """

    detector: str
    at: datetime
    started_at: datetime
    service: str | None
    host: str | None
    severity: Severity
    summary: str
    template_id: int | None = None
    kind: str | None = None
    evidence: Mapping[str, Any] = field(default=_EMPTY)

    @property
    def subject(self) -> str:
        """The service, or `host:NAME` for a host-level finding."""
        return self.service if self.service is not None else f"host:{self.host}"

    @property
    def key(self) -> str:
        """The cooldown key: the same key does not reopen an incident within the cooldown."""
        what = self.kind or (str(self.template_id) if self.template_id is not None else "")
        return f"{self.detector}|{self.subject}|{what}"
