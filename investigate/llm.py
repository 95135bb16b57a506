"""The language model of the crew: environment hygiene and building the CrewAI `LLM`.

CrewAI is heavy (about 3 s and 180 MB to import), phones home unless told
not to, and writes under `$HOME` at import time. So:

- nothing in the detection path imports this module's CrewAI side: `crewai`
  is imported lazily, inside `build_llm` and `investigate.crew`, and only
  after `prepare_crewai_env` has run;
- `prepare_crewai_env(data_dir)` turns telemetry and tracing off and moves
  CrewAI's files under `<data_dir>/crewai`, in this process's environment,
  before the first `import crewai`.

Providers (`settings.llm.provider`):

- `none` (the default): no model; `build_llm` returns None and the
  deterministic report is the report.
- `ollama`: `ollama/<model>` at `base_url` (default `http://127.0.0.1:11434`;
  CrewAI appends `/v1` and speaks Ollama's OpenAI-compatible API).
- `openai`: any OpenAI-compatible server (llama.cpp's `llama-server` or
  `python -m llama_cpp.server`, vLLM, a hosted API) at `base_url`, e.g.
  `http://127.0.0.1:8080/v1`. CrewAI's OpenAI client refuses to start
  without a key, and local servers ignore it, so when `api_key` is not set
  the placeholder `"anything"` is sent.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, SecretStr, model_validator

from logvigil.core.configbase import Strict

if TYPE_CHECKING:
    from crewai.llms.base_llm import BaseLLM

#: Environment set before CrewAI is imported (values forced: telemetry is never on).
CREWAI_ENV = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "OTEL_SDK_DISABLED": "true",
    "CREWAI_TRACING_ENABLED": "false",
}
#: Sent as the API key to local OpenAI-compatible servers that need none.
PLACEHOLDER_API_KEY = "anything"
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"


class LLMConfig(Strict):
    """The `llm:` section: the model provider the investigation crew talks to."""

    provider: Literal["none", "ollama", "openai"] = "none"
    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 120.0
    max_calls: Annotated[int, Field(gt=0, le=1000)] = 12
    #: Tokens one model answer may take: a report is a few hundred; a small model that
    #: rambles is cut here rather than running to the end of its context.
    max_answer_tokens: Annotated[int, Field(ge=64, le=32768)] = 800
    #: The model's context window as the server runs it (llama.cpp's `--n_ctx`, Ollama's
    #: `num_ctx`, which LogVigil sets to this): every prompt plus its answer fits in it.
    context_tokens: Annotated[int, Field(ge=1024, le=1_048_576)] = 4096
    #: `focused`: one schema-constrained question per agent, evidence fetched by code
    #: (`investigate.focused`); `crew`: CrewAI's agents with tool loops (`investigate.crew`);
    #: `auto`: focused below `CREW_MIN_CONTEXT_TOKENS` of context, crew from there.
    mode: Literal["auto", "focused", "crew"] = "auto"
    #: How focused mode asks for schema-constrained answers (`investigate.chat`): `auto`
    #: tries `json_schema`, then `json_object` with a schema, then none (tolerant parser).
    structured: Literal["auto", "json_schema", "json_object", "off"] = "auto"
    #: Who words the impact and the report's statements in focused mode: `model` (two more
    #: questions), `analysis` (the model only chooses: first failure, root), `auto`: the
    #: model from `WORDING_MIN_CONTEXT_TOKENS` of context.
    wording: Literal["auto", "model", "analysis"] = "auto"

    @model_validator(mode="after")
    def _answers_fit(self) -> LLMConfig:
        if self.max_answer_tokens > self.context_tokens // 2:
            raise ValueError(
                f"max_answer_tokens ({self.max_answer_tokens}) must be at most half of "
                f"context_tokens ({self.context_tokens}): the prompt needs the rest"
            )
        return self


#: Context below which `mode: auto` runs the focused questions instead of CrewAI's agents:
#: the crew's prompts, tool outputs and ReAct framing need about 8k real tokens, and CrewAI
#: exits (`SystemExit`) when a conversation outgrows the window.
CREW_MIN_CONTEXT_TOKENS = 16_384


#: Context from which `wording: auto` lets the model word the impact and the statements.
#: Below it run the tiny models of small machines (a 270M to 1B model at 2k to 4k tokens),
#: which can choose among ids under a schema but write filler: measured with Gemma 3 270M,
#: its free text was digits repeated to the token cap, the field names, or the question's
#: own words (docs/investigation.md).
WORDING_MIN_CONTEXT_TOKENS = 8192


def model_words(config: LLMConfig) -> bool:
    """Whether focused mode asks the model to word the impact and the statements."""
    if config.wording == "auto":
        return config.context_tokens >= WORDING_MIN_CONTEXT_TOKENS
    return config.wording == "model"


def focused_mode(config: LLMConfig) -> bool:
    """Whether `config` runs the focused questions rather than CrewAI's agents."""
    if config.mode == "auto":
        return config.context_tokens < CREW_MIN_CONTEXT_TOKENS
    return config.mode == "focused"


class LLMSetupError(ValueError):
    """The `llm` section cannot produce a model (e.g. a provider without a model name)."""


def crewai_dir(data_dir: Path) -> Path:
    """Where CrewAI's files live: `<data_dir>/crewai`."""
    return Path(data_dir) / "crewai"


def _writable_dir(path: str | None) -> bool:
    if not path:
        return False
    p = Path(path)
    if not p.is_dir():
        return False
    try:
        with tempfile.TemporaryFile(dir=p):
            return True
    except OSError:
        return False


def prepare_crewai_env(data_dir: Path, environ: MutableMapping[str, str] | None = None) -> Path:
    """Make this process safe to import CrewAI in; returns CrewAI's directory.

    Sets the telemetry switches of `CREWAI_ENV`, `CREWAI_STORAGE_DIR` =
    `<data_dir>/crewai` (created), and, only when `$HOME` is missing or not
    writable (a systemd unit with `ProtectHome=`), `HOME` = that directory too,
    because CrewAI writes under `~` at import time and crashes otherwise.
    Idempotent. `environ` defaults to `os.environ` (tests pass a dict).
    """
    env = os.environ if environ is None else environ
    target = crewai_dir(data_dir).resolve()
    target.mkdir(parents=True, exist_ok=True)
    env.update(CREWAI_ENV)
    env["CREWAI_STORAGE_DIR"] = str(target)
    if not _writable_dir(env.get("HOME")):
        env["HOME"] = str(target)
    return target


def model_name(config: LLMConfig) -> str:
    """`provider/model` as stored in a report; `none` without a model."""
    if config.provider == "none":
        return "none"
    return f"{config.provider}/{config.model}"


def require_model(config: LLMConfig) -> str:
    """The model name of `config`; raises `LLMSetupError` when a provider has none."""
    if not config.model:
        raise LLMSetupError(f"llm.model is required when llm.provider is {config.provider!r}")
    return config.model


def build_llm(
    config: LLMConfig, data_dir: Path, *, max_tokens: int | None = None
) -> BaseLLM | None:
    """The CrewAI model of `config`, or None for provider `none`.

    The client gets `timeout` = `config.timeout_seconds` per request, no retries
    (the crew's own deadline and call cap are the budget), and answers of at most
    `max_tokens` (default `config.max_answer_tokens`). Raises
    `LLMSetupError` when a provider is set without a model name.
    """
    if config.provider == "none":
        return None
    require_model(config)
    prepare_crewai_env(data_dir)
    from crewai import LLM  # deferred on purpose: ~3 s and 180 MB, after prepare_crewai_env

    common: dict[str, Any] = {
        "timeout": config.timeout_seconds,
        "max_retries": 0,
        "temperature": 0.0,
        "max_tokens": max_tokens if max_tokens is not None else config.max_answer_tokens,
    }
    if config.provider == "ollama":
        return LLM(
            model=f"ollama/{config.model}",
            base_url=config.base_url or DEFAULT_OLLAMA_URL,
            **common,
        )
    if not config.base_url:
        raise LLMSetupError("llm.base_url is required when llm.provider is 'openai'")
    key = config.api_key.get_secret_value() if config.api_key else PLACEHOLDER_API_KEY
    return LLM(model=f"openai/{config.model}", base_url=config.base_url, api_key=key, **common)
