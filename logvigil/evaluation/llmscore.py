"""How a language model fared over a suite's investigations (`logvigil eval --llm ...`).

From the report gist of every incident a replay opened (`logvigil.app.backtest`),
for the reports written with a model:

- **usable**: every question sent came back schema-valid and the report is not
  degraded for anything but a disagreement (a valid answer that lost to strong
  deterministic evidence is the design working, not a failure). Investigations
  with nothing to ask (no hypothesis and a one-entry timeline) are counted apart;
- **agreement**: of the valid answers to the root question, how many chose the
  deterministic root (`agreed`), broke a near tie the other way (`accepted`) or
  lost to the evidence (`disagreed`);
- **cost**: tokens per investigation (the server's counts), seconds per
  investigation and per call (p50 / p95), and the calls whose prompt and answer
  outgrew the context (must be none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from logvigil.evaluation.scoring import Requirement

#: Share of investigations whose answers must be usable (issue 15).
USABLE_TARGET = 0.90
#: The kinds a report's `degraded` reasons start with (`investigate.focused`).
DEGRADED_KINDS = ("timeout", "error", "budget", "invalid", "disagreed")


@dataclass(frozen=True)
class LLMMetrics:
    model: str
    investigations: int  # reports with at least one question (asked, or too big to ask)
    unasked: int  # reports written with the model that had nothing to ask it
    usable: int
    degraded: Mapping[str, int]  # kind -> investigations with a reason of that kind
    root_answers: int
    agreed: int
    accepted: int
    disagreed: int
    calls: int
    valid_calls: int
    exact_counts: int
    over_context: int
    tokens: tuple[int, ...]  # per investigation
    seconds: tuple[float, ...]  # per investigation
    call_seconds: tuple[float, ...]  # per call sent

    @property
    def usable_share(self) -> float | None:
        return self.usable / self.investigations if self.investigations else None

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.root_answers if self.root_answers else None

    def requirements(self) -> list[Requirement]:
        return [
            Requirement(
                f"model answers usable in >= {USABLE_TARGET:.0%} of investigations",
                self.investigations > 0 and self.usable >= USABLE_TARGET * self.investigations,
                f"{self.usable}/{self.investigations}",
            ),
            Requirement(
                "every model call within the context",
                self.over_context == 0,
                str(self.over_context),
            ),
        ]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.requirements())


def _kinds(degraded: str | None) -> set[str]:
    if not degraded:
        return set()
    found = {part.strip().split(":", 1)[0] for part in degraded.split("; ")}
    return {k for k in found if k in DEGRADED_KINDS} or {"error"}


def _sent(call: Mapping[str, Any]) -> bool:
    return call.get("prompt_tokens") is not None or str(call.get("outcome", "")).startswith(
        ("timeout", "error")
    )


def llm_metrics(model: str, incidents: Iterable[Mapping[str, Any]]) -> LLMMetrics:
    """The metrics over the reports of `incidents` written by a model (not `none`)."""
    reports = [
        i["report"]
        for i in incidents
        if isinstance(i.get("report"), Mapping) and i["report"].get("model", "none") != "none"
    ]
    degraded: dict[str, int] = {}
    usable = root_answers = agreed = accepted = disagreed = 0
    calls = valid_calls = exact = over = 0
    tokens: list[int] = []
    seconds: list[float] = []
    call_seconds: list[float] = []
    unasked = 0
    for r in reports:
        if not r.get("model_calls"):
            unasked += 1
            continue
        kinds = _kinds(r.get("degraded"))
        for k in kinds:
            degraded[k] = degraded.get(k, 0) + 1
        sent = [c for c in r.get("model_calls", []) if _sent(c)]
        if sent and all(c.get("valid") for c in sent) and kinds <= {"disagreed"}:
            usable += 1
        for c in sent:
            calls += 1
            valid_calls += bool(c.get("valid"))
            exact += bool(c.get("exact"))
            call_seconds.append(float(c.get("seconds", 0.0)))
            if str(c.get("outcome", "")).startswith("budget: the server counted"):
                over += 1
            if c.get("question") == "root_cause" and c.get("valid"):
                root_answers += 1
                outcome = str(c.get("outcome", ""))
                agreed += outcome == "agreed"
                accepted += outcome.startswith("accepted")
                disagreed += outcome.startswith("disagreed")
        tokens.append(int(r.get("tokens", {}).get("total_tokens", 0)))
        seconds.append(float(r.get("duration_s", 0.0)))
    return LLMMetrics(
        model,
        len(reports) - unasked,
        unasked,
        usable,
        dict(sorted(degraded.items())),
        root_answers,
        agreed,
        accepted,
        disagreed,
        calls,
        valid_calls,
        exact,
        over,
        tuple(tokens),
        tuple(seconds),
        tuple(call_seconds),
    )
