"""What the crew's model is told: each agent's brief and tools, the incident's context
bundle as prompt text, and the token budget it must fit.

The context every agent is given holds the incident, its findings, the
ranked hypotheses and the evidence, log text sanitised and delimited
(`investigate.sanitize`). Budgets: the prompt of each agent's first call is
at most `MAX_PROMPT_TOKENS` (estimated as characters / 4) and each tool
output at most `MAX_TOOL_OUTPUT_CHARS`, so a 4k-context model fits.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files

from detector.incidents.model import Incident
from investigate.analysis import Analysis
from investigate.model import EvidenceItem, Hypothesis, ToolResult
from investigate.sanitize import DATA_NOTE, clean_json_strings, clean_text, delimit
from investigate.tools import TOOLS
from logvigil.core.text import truncate
from logvigil.core.timeutil import iso_z

#: Estimated tokens (characters / 4) of an agent's first prompt: system text with its
#: tools, task and context. Fits a 4k-context model with room for tool outputs.
MAX_PROMPT_TOKENS = 2500
#: Estimated tokens of a whole conversation (first prompt, tool outputs, answers).
MAX_CONVERSATION_TOKENS = 3000
CHARS_PER_TOKEN = 4
#: Characters of one tool output as given to the model.
MAX_TOOL_OUTPUT_CHARS = 1000
#: Hypotheses shown to the model (the ranked list is short; this is its bound).
MAX_HYPOTHESES = 6
#: CrewAI's own framing of a prompt (format instructions, "Current Task", expected
#: output), counted so the estimate stays conservative.
CREWAI_FRAMING_CHARS = 1100

AGENTS = ("timeline", "root_cause", "impact", "reporter")
#: The evidence tools each agent is given (names of `investigate.tools.TOOLS`). The reporter
#: writes from the others' work; a short list per role keeps each prompt small.
AGENT_TOOLS: dict[str, tuple[str, ...]] = {
    "timeline": ("timeline", "lines_around", "restarts"),
    "root_cause": ("upstream", "path_between", "template_stats", "restarts"),
    "impact": ("blast_radius", "co_hosted", "path_between"),
    "reporter": (),
}
ROLES = {
    "timeline": "Incident timeline analyst",
    "root_cause": "Root cause analyst",
    "impact": "Impact analyst",
    "reporter": "Incident reporter",
}
GOALS = {
    "timeline": "Order what happened during the incident, with evidence.",
    "root_cause": "Choose the best supported hypothesis among the ranked ones, or none.",
    "impact": "Say which services are affected and which are only at risk.",
    "reporter": "Write the final report as one JSON object.",
}


def load_prompt(name: str) -> str:
    """The text of `investigate/prompts/<name>.txt`."""
    return files("investigate.prompts").joinpath(f"{name}.txt").read_text(encoding="utf-8")


def estimate_tokens(text: str) -> int:
    """Tokens of `text` estimated as characters / 4 (rounded up), as CrewAI's fallback does."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def prompt_overhead(agent: str) -> str:
    """The text of an agent's first prompt besides the context (its tools included)."""
    tools = "\n".join(
        f"Tool Name: {n}\nTool Arguments: {json.dumps(TOOLS[n].schema(), indent=2)}\n"
        f"Tool Description: {TOOLS[n].description}"
        for n in AGENT_TOOLS[agent]
    )
    return load_prompt("system") + load_prompt(agent) + tools + "x" * CREWAI_FRAMING_CHARS


def context_budget_chars() -> int:
    """Characters left for the context in the largest agent prompt."""
    overhead = max(len(prompt_overhead(a)) for a in AGENTS)
    return MAX_PROMPT_TOKENS * CHARS_PER_TOKEN - overhead


def tool_output_text(result: ToolResult, max_chars: int = MAX_TOOL_OUTPUT_CHARS) -> str:
    """`result` as the model is given it: compact JSON, every string sanitised, bounded."""
    obj = clean_json_strings(result.to_json())
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str)
    return truncate(text, max_chars)


@dataclass
class Context:
    """The context every agent is given, and how it was cut to fit."""

    text: str
    hypotheses: list[Hypothesis]
    trimmed: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)


def hypothesis_label(i: int) -> str:
    """How the crew's prompts number the ranked hypotheses: `[0]`, `[1]`, ..."""
    return f"[{i}]"


def _hypothesis_line(label: str, h: Hypothesis) -> str:
    where = f"{h.service or 'host ' + str(h.host)}" + (
        f" on {h.host}" if h.service and h.host else ""
    )
    reasons = "; ".join(clean_text(r, 160) for r in h.reasons[:3])
    ev = ", ".join(h.evidence[:6])
    return f"{label} {clean_text(where, 120)} (score {h.score:.2f}): {reasons}" + (
        f" [evidence {ev}]" if ev else ""
    )


def _evidence_block(e: EvidenceItem, samples: int, line_chars: int) -> str:
    head = f"{e.id}: {e.service or '-'}@{e.host or '-'}"
    if e.template_id is not None:
        head += f" template {e.template_id}"
    if e.count_before is not None or e.count_during is not None:
        before = "?" if e.count_before is None else e.count_before
        during = "?" if e.count_during is None else e.count_during
        head += f" (lines before {before}, during {during})"
    if e.note:
        head += f" - {clean_text(e.note, 160)}"
    lines = [f"template: {e.template}"] if e.template else []
    lines += list(e.samples[:samples])
    if not lines:
        return head
    body = "\n".join(clean_text(x, line_chars) for x in lines)
    return f"{head}\n{_quoted(body, e.id)}"


def _quoted(body: str, label: str) -> str:
    """`body` delimited as log data, without repeating the data note (said once above)."""
    return delimit(body, label).split("\n", 1)[1]


def build_context(
    incident: Incident,
    analysis: Analysis,
    max_chars: int,
    *,
    label: Callable[[int], str] = hypothesis_label,
    choose: str = "choose by number; 0 is the best ranked",
    hypotheses_last: bool = False,
) -> Context:
    """The sanitised, delimited context bundle of `incident` with `analysis`'s hypotheses.

    At most `max_chars` characters: sample lines, then evidence items, then
    findings are cut (the least valuable first) until it fits; the ranked
    hypotheses are always kept (they are what the model chooses between), each
    headed by `label(i)` and introduced by `choose`; after the evidence with
    `hypotheses_last` (a small model weighs best what it read last).
    """
    hyps = list(analysis.report.hypotheses)[:MAX_HYPOTHESES]
    evidence = list(analysis.report.evidence)
    findings = list(incident.findings)
    window = incident.bundle.window if incident.bundle is not None else None
    start, onset, end = (
        (window.start.isoformat(), window.onset.isoformat(), window.end.isoformat())
        if window is not None
        else ("?", "?", "?")
    )
    trimmed: list[str] = []

    def render(samples: int, line_chars: int, n_evidence: int, n_findings: int) -> str:
        parts = [
            f"Incident {incident.id}: {clean_text(incident.title, 200)}",
            f"Severity: {incident.severity.label}. Window: {start} .. onset {onset} .. {end}",
            "Services: " + clean_text(", ".join(incident.services), 400),
            "Hosts: " + clean_text(", ".join(incident.hosts), 300),
            "",
            DATA_NOTE,
            "Findings (from the detectors; their summaries quote log templates):",
        ]
        rows = []
        for f in findings[:n_findings]:
            who = f.service or f"host {f.host}"
            rows.append(
                f"- {iso_z(f.started_at)} {clean_text(who, 80)}"
                f"@{f.host or '-'} {f.detector}: {clean_text(f.summary, 160)}"
            )
        if len(findings) > n_findings:
            rows.append(f"- ... {len(findings) - n_findings} more finding(s)")
        parts.append(_quoted("\n".join(rows), "findings"))
        ranked = ["", f"Ranked hypotheses ({choose}):"]
        ranked += [_hypothesis_line(label(i), h) for i, h in enumerate(hyps)] or ["(none)"]
        if not hypotheses_last:
            parts += ranked
        if evidence and n_evidence:
            parts += ["", "Evidence (templates and sample lines are quoted log data):"]
            parts += [_evidence_block(e, samples, line_chars) for e in evidence[:n_evidence]]
        if len(evidence) > n_evidence:
            parts.append(f"({len(evidence) - n_evidence} more evidence item(s) left out)")
        if hypotheses_last:
            parts += ranked
        return "\n".join(parts)

    samples, line_chars, n_ev, n_f = 3, 240, len(evidence), len(findings)
    text = render(samples, line_chars, n_ev, n_f)
    while len(text) > max_chars:
        if samples > 1:
            samples -= 1
            trimmed.append("samples")
        elif line_chars > 120:
            line_chars = 120
            trimmed.append("line length")
        elif n_f > 6:
            n_f -= 1
            trimmed.append("findings")
        elif n_ev > 1:
            n_ev -= 1
            trimmed.append("evidence")
        elif n_f > 3:
            n_f -= 1
            trimmed.append("findings")
        elif n_ev:
            n_ev = 0
            trimmed.append("evidence")
        else:
            text = truncate(text, max_chars)
            trimmed.append("text")
            break
        text = render(samples, line_chars, n_ev, n_f)
    return Context(text, hyps, sorted(set(trimmed)))
