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

from pydantic import Field, SecretStr

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
    if not config.model:
        raise LLMSetupError(f"llm.model is required when llm.provider is {config.provider!r}")
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
