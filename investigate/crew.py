"""The crew: four CrewAI agents that choose between the ranked hypotheses and write the report.

Timeline → root cause → impact → reporter, sequential, each with the evidence
tools its role needs (`AGENT_TOOLS`), given the same bounded context: the
incident, its findings, the ranked hypotheses and the evidence, log text
sanitised and delimited (`investigate.sanitize`).

What the model decides, and what it does not:

- it CHOOSES the root cause among the ranked hypotheses (an index), or says
  none is supported, and writes the summary, what is certain / possible and
  the suggested actions;
- it never decides whether the incident exists: the report has no field for
  it, and text such as "no incident" is ignored;
- anything else in its final answer (malformed JSON, a missing key, an index
  out of range, a service that is not a hypothesis, a confidence outside
  0..1) is nonsense: `CrewFailure` is raised and the deterministic report
  stands, with `degraded` saying why.

Budgets are real, not advisory:

- model calls: every call goes through a counter on the LLM (`_Budget`); the
  call after `llm.max_calls` raises `CrewFailure` instead of reaching the
  model. Each agent's `max_iter` is sized so a well-behaved crew fits;
- time: the crew runs in a worker thread; at `llm.timeout_seconds` we stop
  waiting, cancel the budget (the thread's next model or tool call raises)
  and report `timeout after Ns`. Each HTTP request has the same timeout;
- context: the prompt of each agent's first call is at most
  `MAX_PROMPT_TOKENS` (estimated as characters / 4) and each tool output at
  most `MAX_TOOL_OUTPUT_CHARS`, so a 4k-context model fits.

CrewAI is imported lazily, after `prepare_crewai_env` (telemetry off, files
under `<data_dir>/crewai`): importing this module does not import CrewAI.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib.resources import files
from string import Template
from typing import TYPE_CHECKING, Any

from investigate.llm import build_llm, model_name, prepare_crewai_env
from investigate.model import (
    EvidenceItem,
    Hypothesis,
    Report,
    RootCause,
    ToolCall,
    ToolResult,
)
from investigate.sanitize import DATA_NOTE, clean_json_strings, clean_text, delimit
from logvigil.app.settings import Settings
from logvigil.core.text import truncate
from logvigil.core.timeutil import iso_z

if TYPE_CHECKING:
    from crewai.llms.base_llm import BaseLLM

    from investigate.tools import EvidenceTools

#: Estimated tokens (characters / 4) of an agent's first prompt: system text with its
#: tools, task and context. Fits a 4k-context model with room for tool outputs.
MAX_PROMPT_TOKENS = 2500
#: Estimated tokens of a whole conversation (first prompt, tool outputs, answers).
MAX_CONVERSATION_TOKENS = 3000
CHARS_PER_TOKEN = 4
#: Characters of one tool output as given to the model.
MAX_TOOL_OUTPUT_CHARS = 1000
#: Characters of one statement (summary, certain, possible, action) taken from the model.
MAX_STATEMENT_CHARS = 400
#: Statements kept per list from the model.
MAX_STATEMENTS = 5
#: Hypotheses shown to the model (the ranked list is short; this is its bound).
MAX_HYPOTHESES = 6

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


class CrewFailure(RuntimeError):
    """The crew gave no usable answer; `reason` goes into the report's `degraded`.

    Carries what was spent anyway (tool calls, tokens, model calls), so a
    degraded report still records it.
    """

    def __init__(
        self,
        reason: str,
        *,
        tool_calls: Sequence[ToolCall] = (),
        tokens: dict[str, int] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tool_calls = list(tool_calls)
        self.tokens = dict(tokens or {})


# -- prompts ---------------------------------------------------------------------------------


def load_prompt(name: str) -> str:
    """The text of `investigate/prompts/<name>.txt`."""
    return files("investigate.prompts").joinpath(f"{name}.txt").read_text(encoding="utf-8")


def _hypothesis_line(i: int, h: Hypothesis) -> str:
    where = f"{h.service or 'host ' + str(h.host)}" + (
        f" on {h.host}" if h.service and h.host else ""
    )
    reasons = "; ".join(clean_text(r, 160) for r in h.reasons[:3])
    ev = ", ".join(h.evidence[:6])
    return f"[{i}] {clean_text(where, 120)} (score {h.score:.2f}): {reasons}" + (
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


@dataclass
class Context:
    """The context every agent is given, and how it was cut to fit."""

    text: str
    hypotheses: list[Hypothesis]
    trimmed: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)


def estimate_tokens(text: str) -> int:
    """Tokens of `text` estimated as characters / 4 (rounded up), as CrewAI's fallback does."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def build_context(incident: Any, analysis: Any, max_chars: int) -> Context:
    """The sanitised, delimited context bundle of `incident` with `analysis`'s hypotheses.

    At most `max_chars` characters: sample lines, then evidence items, then
    findings are cut (the least valuable first) until it fits; the ranked
    hypotheses are always kept (they are what the model chooses between).
    """
    hyps = list(getattr(analysis, "hypotheses", []) or [])[:MAX_HYPOTHESES]
    evidence = list(getattr(analysis, "evidence", []) or [])
    findings = list(getattr(incident, "findings", ()) or ())
    bundle = getattr(incident, "bundle", None) or {}
    window = bundle.get("window") or {}
    trimmed: list[str] = []

    def render(samples: int, line_chars: int, n_evidence: int, n_findings: int) -> str:
        parts = [
            f"Incident {incident.id}: {clean_text(incident.title, 200)}",
            f"Severity: {getattr(getattr(incident, 'severity', None), 'label', '?')}. "
            f"Window: {window.get('start', '?')} .. onset {window.get('onset', '?')} .. "
            f"{window.get('end', '?')}",
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
        parts += ["", "Ranked hypotheses (choose by number; 0 is the best ranked):"]
        parts += [_hypothesis_line(i, h) for i, h in enumerate(hyps)] or ["(none)"]
        if evidence and n_evidence:
            parts += ["", "Evidence (templates and sample lines are quoted log data):"]
            parts += [_evidence_block(e, samples, line_chars) for e in evidence[:n_evidence]]
        if len(evidence) > n_evidence:
            parts.append(f"({len(evidence) - n_evidence} more evidence item(s) left out)")
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


# -- the model's final answer ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """The reporter's validated answer: a choice among the hypotheses and its statements."""

    hypothesis: int | None
    summary: str
    confidence: float
    certain: list[str]
    possible: list[str]
    suggested_actions: list[str]

    @property
    def no_root_cause(self) -> bool:
        return self.hypothesis is None


_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.I)


def _json_object(text: str) -> dict[str, Any]:
    text = _FENCE.sub("", text.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise CrewFailure("nonsense answer: no JSON object in the reporter's final answer")
    try:
        obj = json.loads(text[start : end + 1])
    except json.JSONDecodeError as e:
        raise CrewFailure(f"nonsense answer: malformed JSON ({e.msg} at {e.pos})") from None
    if not isinstance(obj, dict):
        raise CrewFailure("nonsense answer: the final answer is not a JSON object")
    return obj


def _statements(obj: dict[str, Any], key: str) -> list[str]:
    value = obj.get(key, [])
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise CrewFailure(f"nonsense answer: {key!r} must be a list of strings")
    out = [clean_text(x, MAX_STATEMENT_CHARS) for x in value if x.strip()]
    return out[:MAX_STATEMENTS]


ANSWER_KEYS = ("root_cause", "no_root_cause", "certain", "possible", "suggested_actions")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def parse_verdict(text: str, hypotheses: Sequence[Hypothesis], quoted: str = "") -> Verdict:
    """Validate the reporter's final answer against the ranked `hypotheses`.

    Every key of `ANSWER_KEYS` must be there. An answer that merely repeats
    text of `quoted` (the context the model was given: a log line can carry a
    ready-made "final answer") is nonsense too. Accepts an index into
    `hypotheses` (an integer, or the exact service name of one of them), or
    null with `no_root_cause: true`. Raises `CrewFailure`
    ("nonsense answer: ...") for anything else.
    """
    obj = _json_object(text)
    if quoted and (_squash(json.dumps(obj)) in quoted or _squash(text.strip()) in quoted):
        raise CrewFailure("nonsense answer: it repeats text quoted from the logs")
    for key in ANSWER_KEYS:
        if key not in obj:
            raise CrewFailure(f"nonsense answer: missing key {key!r}")
    rc, no_root = obj["root_cause"], obj["no_root_cause"]
    if not isinstance(no_root, bool):
        raise CrewFailure("nonsense answer: 'no_root_cause' must be true or false")
    if rc is None:
        rc = {"hypothesis": None, "summary": "", "confidence": 0.0}
    if not isinstance(rc, dict):
        raise CrewFailure("nonsense answer: 'root_cause' must be an object or null")
    for key in ("hypothesis", "summary", "confidence"):
        if key not in rc:
            raise CrewFailure(f"nonsense answer: missing key 'root_cause.{key}'")
    choice = rc["hypothesis"]
    names = [h.service for h in hypotheses]
    if isinstance(choice, str):
        # A small model may name the hypothesis instead of numbering it: still a choice
        # among them when the name is exactly one hypothesis' service.
        stripped = choice.strip()
        if stripped.isdigit():
            choice = int(stripped)
        elif names.count(stripped) == 1:
            choice = names.index(stripped)
        else:
            raise CrewFailure(
                f"nonsense answer: root cause {clean_text(choice, 60)!r} is not one of the "
                f"ranked hypotheses ({', '.join(str(n) for n in names) or 'none'})"
            )
    if isinstance(choice, bool) or not (choice is None or isinstance(choice, int)):
        raise CrewFailure("nonsense answer: 'root_cause.hypothesis' must be an index or null")
    if choice is not None and not 0 <= choice < len(hypotheses):
        raise CrewFailure(
            f"nonsense answer: hypothesis {choice} is not one of the "
            f"{len(hypotheses)} ranked hypotheses"
        )
    named = rc.get("service")
    if choice is not None and named is not None and named != hypotheses[choice].service:
        raise CrewFailure(
            f"nonsense answer: service {clean_text(str(named), 60)!r} does not match "
            f"hypothesis {choice} ({hypotheses[choice].service})"
        )
    if (choice is None) != no_root:
        raise CrewFailure(
            "nonsense answer: 'hypothesis' must be null exactly when 'no_root_cause' is true"
        )
    conf = rc["confidence"]
    if isinstance(conf, bool) or not isinstance(conf, int | float) or not 0 <= conf <= 1:
        raise CrewFailure("nonsense answer: 'root_cause.confidence' must be a number in 0..1")
    summary = rc["summary"]
    if not isinstance(summary, str) or (choice is not None and not summary.strip()):
        raise CrewFailure("nonsense answer: 'root_cause.summary' must be a non-empty string")
    return Verdict(
        hypothesis=choice,
        summary=clean_text(summary, MAX_STATEMENT_CHARS),
        confidence=float(conf),
        certain=_statements(obj, "certain"),
        possible=_statements(obj, "possible"),
        suggested_actions=_statements(obj, "suggested_actions"),
    )


def merge(base: Report, verdict: Verdict, hypotheses: Sequence[Hypothesis]) -> Report:
    """`base` (the deterministic report) with the model's choice and statements in it.

    Only the root cause, its summary and confidence, and the three statement
    lists change (a list the model left empty keeps the deterministic one);
    the timeline, impact, evidence and hypotheses stay as computed.
    """
    if verdict.hypothesis is None:
        root = None
    else:
        h = hypotheses[verdict.hypothesis]
        root = RootCause(h.service, h.host, verdict.summary, verdict.confidence, h.evidence)
    return replace(
        base,
        root_cause=root,
        no_root_cause=root is None,
        certain=verdict.certain or list(base.certain),
        possible=verdict.possible or list(base.possible),
        suggested_actions=verdict.suggested_actions or list(base.suggested_actions),
    )


# -- budgets ---------------------------------------------------------------------------------


class _Budget:
    """Counts model calls and stops them: past `max_calls`, or once cancelled (timeout)."""

    def __init__(self, max_calls: int) -> None:
        self.max_calls = max_calls
        self.calls = 0
        self.exhausted = False
        self.cancelled: str | None = None
        self.lock = threading.Lock()

    def spend(self) -> None:
        """Account for one model call; raises CrewFailure when none may be made."""
        with self.lock:
            if self.cancelled:
                raise CrewFailure(self.cancelled)
            if self.calls >= self.max_calls:
                self.exhausted = True
                raise CrewFailure(f"model call cap of {self.max_calls} reached")
            self.calls += 1

    def check(self) -> None:
        if self.cancelled:
            raise CrewFailure(self.cancelled)


def _budgeted(llm: BaseLLM, budget: _Budget) -> BaseLLM:
    """A shallow copy of `llm` whose `call` spends from `budget` before calling the model.

    A copy, so a caller's LLM object is never left patched, and a crew that
    outlived its deadline keeps spending from its own (cancelled) budget.
    """
    copy = llm.model_copy()
    call = type(llm).call

    def counted(*args: Any, **kwargs: Any) -> Any:
        budget.spend()
        return call(copy, *args, **kwargs)

    object.__setattr__(copy, "call", counted)
    return copy


# -- tools -----------------------------------------------------------------------------------


def tool_output_text(result: ToolResult, max_chars: int = MAX_TOOL_OUTPUT_CHARS) -> str:
    """`result` as the model is given it: compact JSON, every string sanitised, bounded."""
    obj = clean_json_strings(result.to_json())
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str)
    return truncate(text, max_chars)


def _crewai_tools(
    evidence: EvidenceTools,
    agent: str,
    names: Sequence[str],
    calls: list[ToolCall],
    budget: _Budget,
) -> list[Any]:
    """CrewAI tools over `evidence` for `agent`: each call runs, is recorded, is bounded."""
    from crewai.tools import BaseTool
    from pydantic import BaseModel

    from investigate.tools import TOOLS

    made = []
    for name in names:
        spec = TOOLS[name]

        class _Tool(BaseTool):
            name: str = spec.name
            description: str = spec.description
            args_schema: type[BaseModel] = spec.args

            def _run(self, _spec: Any = spec, **kwargs: Any) -> str:
                budget.check()
                args = {k: v for k, v in kwargs.items() if v is not None}
                result = evidence.run(_spec.name, args)
                text = tool_output_text(result)
                calls.append(ToolCall(_spec.name, args, result.status.value, text, agent))
                return text

        made.append(_Tool())
    return made


# -- the crew --------------------------------------------------------------------------------


def prompt_overhead(agent: str) -> str:
    """The text of an agent's first prompt besides the context (its tools included)."""
    from investigate.tools import TOOLS

    tools = "\n".join(
        f"Tool Name: {n}\nTool Arguments: {json.dumps(TOOLS[n].schema(), indent=2)}\n"
        f"Tool Description: {TOOLS[n].description}"
        for n in AGENT_TOOLS[agent]
    )
    # CrewAI's own framing (format instructions, "Current Task", expected output) is
    # about 1,100 characters; counted here so the estimate stays conservative.
    return load_prompt("system") + load_prompt(agent) + tools + "x" * 1100


def context_budget_chars() -> int:
    """Characters left for the context in the largest agent prompt."""
    overhead = max(len(prompt_overhead(a)) for a in AGENTS)
    return MAX_PROMPT_TOKENS * CHARS_PER_TOKEN - overhead


@dataclass
class CrewRun:
    """What one crew run produced, before it is judged."""

    final: str
    tool_calls: list[ToolCall]
    tokens: dict[str, int]
    model_calls: int


def _tokens(llm: BaseLLM, before: dict[str, int], crew_usage: Any, calls: int) -> dict[str, int]:
    after = llm.get_token_usage_summary().model_dump()
    out = {
        k: int(after.get(k, 0)) - int(before.get(k, 0))
        for k in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
    if not out["total_tokens"] and crew_usage is not None:
        for k in out:
            out[k] = int(getattr(crew_usage, k, 0) or 0)
    out["model_calls"] = calls
    return out


def run_crew(
    incident: Any,
    analysis: Any,
    evidence: EvidenceTools,
    settings: Settings,
    llm: BaseLLM,
    *,
    on_prompt: Callable[[Context], None] | None = None,
) -> tuple[Verdict, CrewRun, Context]:
    """Run the four agents over `incident` and return the validated verdict.

    Raises `CrewFailure` (with the tool calls and tokens spent) when the crew
    fails, times out, exceeds its model-call cap or answers nonsense.
    """
    prepare_crewai_env(settings.data_dir)
    from crewai import Agent, Crew, Process, Task

    cfg = settings.llm
    context = build_context(incident, analysis, context_budget_chars())
    if on_prompt is not None:
        on_prompt(context)
    budget = _Budget(cfg.max_calls)
    model = _budgeted(llm, budget)
    before = llm.get_token_usage_summary().model_dump()
    calls: list[ToolCall] = []
    # An agent may iterate max_iter times plus one forced final answer.
    per_agent = max(2, cfg.max_calls // len(AGENTS))
    system = load_prompt("system")
    block = "The incident, its findings, the ranked hypotheses and the evidence:\n" + context.text
    agents, tasks = [], []
    for name in AGENTS:
        agent = Agent(
            role=ROLES[name],
            goal=GOALS[name],
            backstory=system,
            llm=model,
            tools=_crewai_tools(evidence, name, AGENT_TOOLS[name], calls, budget),
            memory=False,
            verbose=False,
            allow_delegation=False,
            cache=False,
            max_iter=per_agent - 1,
            max_retry_limit=0,
            respect_context_window=False,
        )
        description = Template(load_prompt(name)).safe_substitute(
            incident_id=incident.id, context=block
        )
        expected = (
            "One JSON object as described, nothing else."
            if name == "reporter"
            else "A short factual text with evidence ids."
        )
        agents.append(agent)
        tasks.append(Task(description=description, expected_output=expected, agent=agent))
    crew = Crew(
        agents=agents,
        tasks=tasks,
        process=Process.sequential,
        memory=False,
        verbose=False,
        cache=False,
    )

    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["output"] = crew.kickoff()
        except BaseException as e:  # carried to the caller's thread
            outcome["error"] = e

    worker = threading.Thread(target=work, name=f"crew-incident-{incident.id}", daemon=True)
    worker.start()
    worker.join(cfg.timeout_seconds)

    def failure(reason: str) -> CrewFailure:
        return CrewFailure(
            reason,
            tool_calls=list(calls),
            tokens=_tokens(llm, before, None, budget.calls),
        )

    if worker.is_alive():
        budget.cancelled = f"timeout after {cfg.timeout_seconds:g}s"
        raise failure(budget.cancelled)
    if budget.exhausted:
        raise failure(f"model call cap of {cfg.max_calls} reached")
    if "error" in outcome:
        err = outcome["error"]
        if isinstance(err, CrewFailure):
            raise failure(err.reason)
        raise failure(f"model error: {type(err).__name__}: {truncate(str(err), 300)}")
    output = outcome["output"]
    final = str(getattr(output, "raw", output) or "")
    run = CrewRun(
        final=final,
        tool_calls=list(calls),
        tokens=_tokens(llm, before, getattr(output, "token_usage", None), budget.calls),
        model_calls=budget.calls,
    )
    try:
        verdict = parse_verdict(final, context.hypotheses, _squash(context.text))
    except CrewFailure as e:
        raise CrewFailure(e.reason, tool_calls=run.tool_calls, tokens=run.tokens) from None
    return verdict, run, context


def crew_report(
    incident: Any,
    analysis: Any,
    evidence: EvidenceTools,
    settings: Settings,
    base: Report,
    llm: BaseLLM,
) -> Report:
    """The report of `incident`: `base` with the crew's verdict merged in, or `base` degraded.

    Never raises for a model's failure: a failing, slow, over-budget or
    nonsensical model gives `base` with `degraded` set, the tool calls and
    tokens it spent, and the duration.
    """
    started = time.monotonic()
    name = model_name(settings.llm) if settings.llm.provider != "none" else str(llm.model)
    try:
        verdict, run, _ = run_crew(incident, analysis, evidence, settings, llm)
    except CrewFailure as e:
        return replace(
            base,
            model=name,
            degraded=e.reason,
            tool_calls=e.tool_calls,
            tokens=e.tokens,
            duration_s=round(time.monotonic() - started, 3),
        )
    report = merge(base, verdict, analysis_hypotheses(analysis, base))
    return replace(
        report,
        model=name,
        degraded=None,
        tool_calls=run.tool_calls,
        tokens=run.tokens,
        duration_s=round(time.monotonic() - started, 3),
    )


def analysis_hypotheses(analysis: Any, base: Report) -> list[Hypothesis]:
    """The ranked hypotheses the model chose from (as shown to it)."""
    hyps = list(getattr(analysis, "hypotheses", None) or base.hypotheses)
    return hyps[:MAX_HYPOTHESES]


def crew_runner(settings: Settings, llm: BaseLLM | None = None) -> Callable[..., Report] | None:
    """A runner for `investigate.service.investigate(..., crew_runner=...)`, or None.

    None when `settings.llm.provider` is `none` and no `llm` is given: the
    deterministic report is the report. `llm` overrides the configured model
    (tests pass a fake).
    """
    model = llm if llm is not None else build_llm(settings.llm, settings.data_dir)
    if model is None:
        return None

    def run(
        incident: Any,
        analysis: Any,
        tools: EvidenceTools,
        settings: Settings,
        base: Report | None = None,
    ) -> Report:
        if base is None:
            base = analysis.to_report(created_at=None)
        return crew_report(incident, analysis, tools, settings, base, model)

    return run
