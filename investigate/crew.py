"""The crew: four CrewAI agents that choose between the ranked hypotheses and write the report.

Timeline → root cause → impact → reporter, sequential, each with the evidence
tools its role needs and the same bounded context (`investigate.prompt`); the
reporter's final answer is validated and merged by `investigate.verdict`.
This module is the CrewAI adapter: agents, tasks, the budgets, the model.

Budgets are real, not advisory:

- model calls: every call goes through a counter on the LLM (`_Budget`); the
  call after `llm.max_calls` raises `CrewFailure` instead of reaching the
  model. Each agent's `max_iter` is sized so a well-behaved crew fits;
- time: the crew runs in a worker thread; at `llm.timeout_seconds` we stop
  waiting, cancel the budget (the thread's next model or tool call raises)
  and report `timeout after Ns`. Each HTTP request has the same timeout;
- context: see `investigate.prompt` (a 4k-context model fits).

CrewAI is imported lazily, after `prepare_crewai_env` (telemetry off, files
under `<data_dir>/crewai`): importing this module does not import CrewAI.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from detector.incidents.model import Incident
from investigate.analysis import Analysis
from investigate.focused import focused_runner
from investigate.llm import LLMConfig, build_llm, focused_mode, model_name, prepare_crewai_env
from investigate.model import Report, ToolCall
from investigate.prompt import (
    AGENT_TOOLS,
    AGENTS,
    GOALS,
    ROLES,
    Context,
    build_context,
    context_budget_chars,
    load_prompt,
    tool_output_text,
)
from investigate.service import CrewRunner
from investigate.tools import TOOLS, EvidenceTools, ToolSpec
from investigate.verdict import CrewFailure, Verdict, merge, parse_verdict, squash
from logvigil.core.text import truncate

if TYPE_CHECKING:
    from crewai.llms.base_llm import BaseLLM
    from crewai.tools import BaseTool
    from crewai.types.usage_metrics import UsageMetrics

TOKEN_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")


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
        """Raise CrewFailure once the crew was cancelled."""
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


def _crewai_tools(
    evidence: EvidenceTools,
    agent: str,
    names: Sequence[str],
    calls: list[ToolCall],
    budget: _Budget,
) -> list[BaseTool]:
    """CrewAI tools over `evidence` for `agent`: each call runs, is recorded, is bounded."""
    from crewai.tools import BaseTool  # deferred on purpose: CrewAI costs ~3 s and 180 MB

    made: list[BaseTool] = []
    for name in names:
        spec = TOOLS[name]

        class _Tool(BaseTool):
            name: str = spec.name
            description: str = spec.description
            args_schema: type[BaseModel] = spec.args

            def _run(self, _spec: ToolSpec = spec, **kwargs: Any) -> str:
                budget.check()
                args = {k: v for k, v in kwargs.items() if v is not None}
                result = evidence.run(_spec.name, args)
                text = tool_output_text(result)
                calls.append(ToolCall(_spec.name, args, result.status.value, text, agent))
                return text

        made.append(_Tool())
    return made


@dataclass
class CrewRun:
    """What one crew run produced, before it is judged."""

    final: str
    tool_calls: list[ToolCall]
    tokens: dict[str, int]
    model_calls: int


def _tokens(
    llm: BaseLLM, before: dict[str, int], usage: UsageMetrics | None, calls: int
) -> dict[str, int]:
    """Tokens spent since `before` by `llm`, else as the crew counted them (`usage`)."""
    after = llm.get_token_usage_summary().model_dump()
    out = {k: int(after.get(k, 0)) - int(before.get(k, 0)) for k in TOKEN_KEYS}
    if not out["total_tokens"] and usage is not None:
        counted = usage.model_dump()
        out = {k: int(counted.get(k, 0) or 0) for k in TOKEN_KEYS}
    out["model_calls"] = calls
    return out


def run_crew(
    incident: Incident,
    analysis: Analysis,
    evidence: EvidenceTools,
    llm_config: LLMConfig,
    data_dir: Path,
    llm: BaseLLM,
) -> tuple[Verdict, CrewRun, Context]:
    """Run the four agents over `incident` and return the validated verdict.

    Raises `CrewFailure` (with the tool calls and tokens spent) when the crew
    fails, times out, exceeds its model-call cap or answers nonsense.
    """
    prepare_crewai_env(data_dir)
    # Deferred on purpose: CrewAI costs ~3 s and 180 MB, and must see prepare_crewai_env.
    from crewai import Agent, Crew, Process, Task
    from crewai.crews.crew_output import CrewOutput

    context = build_context(incident, analysis, context_budget_chars())
    budget = _Budget(llm_config.max_calls)
    model = _budgeted(llm, budget)
    before = llm.get_token_usage_summary().model_dump()
    calls: list[ToolCall] = []
    # An agent may iterate max_iter times plus one forced final answer.
    per_agent = max(2, llm_config.max_calls // len(AGENTS))
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

    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["output"] = crew.kickoff()
        except BaseException as e:  # carried to the caller's thread
            outcome["error"] = e

    worker = threading.Thread(target=work, name=f"crew-incident-{incident.id}", daemon=True)
    worker.start()
    worker.join(llm_config.timeout_seconds)

    def failure(reason: str) -> CrewFailure:
        return CrewFailure(
            reason,
            tool_calls=list(calls),
            tokens=_tokens(llm, before, None, budget.calls),
        )

    if worker.is_alive():
        budget.cancelled = f"timeout after {llm_config.timeout_seconds:g}s"
        raise failure(budget.cancelled)
    if budget.exhausted:
        raise failure(f"model call cap of {llm_config.max_calls} reached")
    err = outcome.get("error")
    if isinstance(err, BaseException):
        if isinstance(err, CrewFailure):
            raise failure(err.reason)
        if isinstance(err, SystemExit):  # CrewAI exits when a prompt outgrows the context
            raise failure(
                f"budget: the crew outgrew the model's context ({truncate(str(err), 200)})"
            )
        raise failure(f"model error: {type(err).__name__}: {truncate(str(err), 300)}")
    output = outcome["output"]
    crewed = isinstance(output, CrewOutput)
    run = CrewRun(
        final=(output.raw if crewed else str(output or "")) or "",
        tool_calls=list(calls),
        tokens=_tokens(llm, before, output.token_usage if crewed else None, budget.calls),
        model_calls=budget.calls,
    )
    try:
        verdict = parse_verdict(run.final, context.hypotheses, squash(context.text))
    except CrewFailure as e:
        raise CrewFailure(e.reason, tool_calls=run.tool_calls, tokens=run.tokens) from None
    return verdict, run, context


def crew_report(
    incident: Incident,
    analysis: Analysis,
    evidence: EvidenceTools,
    base: Report,
    llm_config: LLMConfig,
    data_dir: Path,
    llm: BaseLLM,
) -> Report:
    """The report of `incident`: `base` with the crew's verdict merged in, or `base` degraded.

    Never raises for a model's failure: a failing, slow, over-budget or
    nonsensical model gives `base` with `degraded` set, the tool calls and
    tokens it spent, and the duration.
    """
    started = time.monotonic()
    name = model_name(llm_config) if llm_config.provider != "none" else str(llm.model)
    try:
        verdict, run, context = run_crew(incident, analysis, evidence, llm_config, data_dir, llm)
    except CrewFailure as e:
        return replace(
            base,
            model=name,
            degraded=e.reason,
            tool_calls=e.tool_calls,
            tokens=e.tokens,
            duration_s=round(time.monotonic() - started, 3),
        )
    return replace(
        merge(base, verdict, context.hypotheses),
        model=name,
        degraded=None,
        tool_calls=run.tool_calls,
        tokens=run.tokens,
        duration_s=round(time.monotonic() - started, 3),
    )


def crew_runner(
    llm_config: LLMConfig, data_dir: Path, llm: BaseLLM | None = None
) -> CrewRunner | None:
    """A runner for `investigate.service.investigate(..., crew_runner=...)`, or None.

    None when `llm_config.provider` is `none` and no `llm` is given: the
    deterministic report is the report. In focused mode (`llm.mode`, or `auto` with a
    small `llm.context_tokens`) the runner asks the focused questions
    (`investigate.focused`) and CrewAI is not used. `llm` overrides the configured model
    (tests pass a fake). Raises `LLMSetupError` for a provider without a model.
    """
    if llm is None and llm_config.provider != "none" and focused_mode(llm_config):
        return focused_runner(llm_config)
    model = llm if llm is not None else build_llm(llm_config, data_dir)
    if model is None:
        return None

    def run(incident: Incident, analysis: Analysis, tools: EvidenceTools, base: Report) -> Report:
        return crew_report(incident, analysis, tools, base, llm_config, data_dir, model)

    return run
