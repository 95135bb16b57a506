"""The command line's model options, shared by `investigate` and `eval`.

    --llm none | openai:MODEL | ollama:MODEL   the provider and model (default: the config's)
    --llm-url URL                              the server (default: the config's llm.base_url)
    --llm-context N                            its context in tokens (llm.context_tokens)

They override the config's `llm:` section and are validated like it: a bad value
exits 2 naming the option, never with a traceback.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from investigate.chat import ChatClient, client_for
from investigate.crew import crew_runner
from investigate.llm import LLMConfig
from investigate.service import CrewRunner
from logvigil.app.settings import Settings
from logvigil.cli.kit import fail

_LLM = re.compile(r"^(none|(openai|ollama):(\S.*))$")

LlmOpt = Annotated[
    str | None,
    typer.Option("--llm", help="none, openai:MODEL or ollama:MODEL (default: the config's llm)"),
]
LlmUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--llm-url",
        help="the model server, e.g. http://127.0.0.1:8080/v1 (default: the config's llm.base_url)",
    ),
]
LlmContextOpt = Annotated[
    int | None,
    typer.Option(
        "--llm-context",
        help="the model's context in tokens (default: the config's llm.context_tokens)",
    ),
]


def parse_llm(value: str) -> tuple[str, str | None]:
    """`none` -> ("none", None); `openai:gpt-4o-mini` -> ("openai", "gpt-4o-mini").

    Raises ValueError naming the accepted forms.
    """
    m = _LLM.match(value.strip())
    if m is None:
        raise ValueError(
            f"--llm {value!r}: expected none, openai:MODEL or ollama:MODEL (e.g. ollama:qwen2.5:7b)"
        )
    if m.group(1) == "none":
        return "none", None
    return m.group(2), m.group(3).strip()


def with_llm(
    settings: Settings, llm: str | None, url: str | None = None, context: int | None = None
) -> Settings:
    """`settings` with the model options applied; exits 2 on a bad one."""
    update: dict[str, Any] = {}
    if llm is not None:
        try:
            provider, model = parse_llm(llm)
        except ValueError as exc:
            fail(str(exc))
        update["provider"] = provider
        if model is not None:
            update["model"] = model
    if url is not None:
        update["base_url"] = url
    if context is not None:
        update["context_tokens"] = context
    if not update:
        return settings
    try:
        config = LLMConfig.model_validate(settings.llm.model_dump() | update)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc']) or 'llm'}: {e['msg']}" for e in exc.errors()
        )
        fail(f"--llm / --llm-url / --llm-context: {problems}")
    return settings.model_copy(update={"llm": config})


def runner_or_exit(settings: Settings) -> CrewRunner | None:
    """The crew's runner for the configured model, or None for the deterministic report;
    exits 2 for a model configuration that cannot work (no model name, no URL)."""
    if settings.llm.provider == "none":
        return None
    try:
        return crew_runner(settings.llm, settings.data_dir)
    except ImportError as exc:
        fail(f"the crew is not available ({exc}); use --llm none for the deterministic report")
    except Exception as exc:  # a bad model configuration is the user's to fix
        fail(f"--llm {settings.llm.provider}:{settings.llm.model}: {exc}")


def chat_client_or_exit(config: LLMConfig) -> ChatClient | None:
    """A client for one schema-constrained question to the configured model (`ask`), or
    None for provider `none`; exits 2 for a model configuration that cannot work."""
    if config.provider == "none":
        return None
    try:
        return client_for(config)
    except ValueError as exc:
        fail(f"--llm {config.provider}:{config.model}: {exc}")
