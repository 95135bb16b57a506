"""One focused question to a small local model, its answer constrained to a JSON schema.

The investigation asks small models (a 270M Gemma on llama.cpp, Llama 3.2 1B on
Ollama) one question per call; the schema is enforced by the server's grammar,
not hoped for in the prompt. CrewAI is not on this path: plain `requests`.

Protocols (`make_client(provider, ...)`):

- `openai`: any OpenAI-compatible server at `base_url` (e.g.
  `http://127.0.0.1:8080/v1`): `POST {base_url}/chat/completions`, temperature 0,
  `stream: false`, `Authorization: Bearer <api_key or "anything">`. The schema
  travels in `response_format`, in one of three dialects (`structured`):

  - `json_schema`: `{"type": "json_schema", "json_schema": {"name": "answer",
    "schema": S, "strict": true}}`: OpenAI, vLLM, llama.cpp's C++ `llama-server`;
  - `json_object`: `{"type": "json_object", "schema": S}`: llama-cpp-python's
    `python -m llama_cpp.server` (0.3.x answers `json_schema` with an HTTP 500
    "Input should be 'text' or 'json_object'", and turns `json_object` + `schema`
    into a grammar);
  - `off`: no `response_format`; the caller parses the text tolerantly;
  - `auto` (default): `json_schema`, and on an HTTP error the same request with
    `json_object`, then without `response_format`. The first dialect answered
    with a 2xx is remembered by the client, so later calls go straight to it. A
    timeout or a connection error is not a dialect problem: it is raised at once.

  The answer is `choices[0].message.content`, `finish_reason` and `usage`
  (`usage` is optional: a server without it gives token counts of None).

  Token counting uses the server's own tokenizer when it has one:
  `POST {root}/tokenize {"content": text}` (llama.cpp's `llama-server`), else
  `POST {root}/extras/tokenize {"input": text}` (llama-cpp-python), `root` being
  `base_url` without its `/v1`, within `TOKENIZE_TIMEOUT` seconds (or the caller's
  `timeout`). Which one works, or that none does (or that it timed out), is remembered.

- `ollama`: Ollama's native API at `base_url` (default `http://127.0.0.1:11434`;
  a trailing `/v1` is dropped): `POST {base}/api/chat` with `format: S` (Ollama
  turns the schema into a grammar) and `options: {temperature: 0, num_ctx,
  num_predict}`. The answer is `message.content`, `prompt_eval_count`,
  `eval_count` and `done_reason`. Ollama has no tokenize endpoint.

Token counts are of the concatenated message contents plus `TEMPLATE_TOKENS_PER_MESSAGE`
per message and `TEMPLATE_TOKENS` once, an allowance for the chat template's role
markers (Gemma's `<start_of_turn>user\\n...<end_of_turn>\\n` is 5 tokens a turn, Llama
3's header 4 to 5) and the BOS token. Without a tokenizer the text is counted as one
token per `CHARS_PER_TOKEN` characters, an overestimate for English and log text
(about 4 characters a token) that still holds for dense JSON and identifiers. Both
err high on purpose: the count decides what fits in a small context window. Gemma's
template also drops `system` messages, so its server counts fewer tokens than this.

Every failure of `ask` is a `ChatError` whose `kind` says what went wrong; no
`requests` exception or `KeyError` escapes.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

from investigate.llm import DEFAULT_OLLAMA_URL, PLACEHOLDER_API_KEY, LLMConfig, require_model
from logvigil.core.redact import clean_line, hide_url_password
from logvigil.core.text import single_line

Message = dict[str, str]
"""`{"role": "system" | "user" | "assistant", "content": "..."}`"""

ErrorKind = Literal["timeout", "http", "protocol", "connection"]
Structured = Literal["json_schema", "json_object", "ollama_format", "none"]

#: The values of `make_client(structured=...)`.
STRUCTURED_MODES: Final = ("auto", "json_schema", "json_object", "off")
#: The chat template's tokens per message (role markers) and once (BOS, the answer's
#: header): added to the tokens of the message contents.
TEMPLATE_TOKENS_PER_MESSAGE: Final = 8
TEMPLATE_TOKENS: Final = 8
#: Characters per token when the server has no tokenizer endpoint (an overestimate).
CHARS_PER_TOKEN: Final = 2.5
#: Seconds a tokenize request may take by default: it is cheap, and only an aid.
TOKENIZE_TIMEOUT: Final = 10.0
#: Characters of a failing answer's body quoted in a `ChatError`.
BODY_QUOTE_CHARS: Final = 200

#: The OpenAI-compatible dialects, in the order `auto` tries them.
_OPENAI_DIALECTS: Final[tuple[Structured, ...]] = ("json_schema", "json_object", "none")
#: Tokenizer endpoints under the server's root: (path, the body's key for the text).
_TOKENIZERS: Final = (("/tokenize", "content"), ("/extras/tokenize", "input"))


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    """A model's answer to one question."""

    text: str  # the model's content, raw
    prompt_tokens: int | None  # as the server counted them
    answer_tokens: int | None
    seconds: float  # wall time of the HTTP exchange(s) that produced it, fallbacks included
    structured: Structured  # how the schema was sent
    finish: str | None  # "stop", "length", ... (Ollama: done_reason)


class ChatError(Exception):
    """A question that got no usable answer. `kind`: `timeout`, `http` (a non-2xx
    status), `protocol` (an answer body that is not what the protocol says) or
    `connection` (nothing answered). The message is one line naming the URL."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(single_line(message))
        self.kind: ErrorKind = kind


class ChatClient(Protocol):
    """A model server that answers one question at a time, shaped by a JSON schema."""

    name: str  # "openai/<model>" or "ollama/<model>"

    def count_tokens(
        self, messages: Sequence[Message], *, timeout: float = TOKENIZE_TIMEOUT
    ) -> tuple[int, bool]:
        """(tokens of the whole prompt, exact): exact when the server's tokenizer counted,
        within `timeout` seconds. Never raises."""
        ...

    def ask(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any],
        *,
        max_tokens: int,
        timeout: float,
    ) -> ChatAnswer:
        """The model's answer; raises `ChatError`."""
        ...


def make_client(
    provider: str,
    model: str,
    base_url: str | None,
    *,
    api_key: str | None = None,
    structured: str = "auto",
    context_tokens: int = 4096,
) -> ChatClient:
    """A client for `provider` (`openai` or `ollama`); raises ValueError on bad arguments.

    `structured` (`auto`, `json_schema`, `json_object`, `off`) picks the OpenAI dialect
    of the schema; for Ollama anything but `off` sends it as `format`.
    `context_tokens` is Ollama's `num_ctx` (an OpenAI-compatible server has its own).
    """
    if not model:
        raise ValueError("model must be a model name, got an empty one")
    if structured not in STRUCTURED_MODES:
        modes = ", ".join(STRUCTURED_MODES)
        raise ValueError(f"structured must be one of {modes}, got: {structured!r}")
    if context_tokens <= 0:
        raise ValueError(f"context_tokens must be positive, got: {context_tokens}")
    if provider == "openai":
        if not base_url:
            raise ValueError(
                "base_url is required for provider 'openai' (e.g. http://127.0.0.1:8080/v1)"
            )
        return _OpenAIClient(model, base_url, api_key or PLACEHOLDER_API_KEY, structured)
    if provider == "ollama":
        return _OllamaClient(model, base_url or DEFAULT_OLLAMA_URL, structured, context_tokens)
    raise ValueError(f"provider must be 'openai' or 'ollama', got: {provider!r}")


def client_for(config: LLMConfig) -> ChatClient:
    """The client of the `llm:` section; raises ValueError (`LLMSetupError` without a
    model name) when it cannot work."""
    return make_client(
        config.provider,
        require_model(config),
        config.base_url,
        api_key=config.api_key.get_secret_value() if config.api_key else None,
        structured=config.structured,
        context_tokens=config.context_tokens,
    )


# -- shared helpers --------------------------------------------------------------------------


def _prompt_text(messages: Sequence[Message]) -> str:
    return "\n".join(str(m.get("content") or "") for m in messages)


def _template_allowance(messages: Sequence[Message]) -> int:
    return TEMPLATE_TOKENS_PER_MESSAGE * len(messages) + TEMPLATE_TOKENS


def _estimate_tokens(messages: Sequence[Message]) -> int:
    """Tokens of `messages` without a tokenizer: one per `CHARS_PER_TOKEN` characters of
    content, rounded up, plus the template allowance. Errs high."""
    chars = len(_prompt_text(messages))
    return math.ceil(chars / CHARS_PER_TOKEN) + _template_allowance(messages)


def post_json(
    url: str, body: dict[str, Any], timeout: float, headers: dict[str, str] | None = None
) -> Any:
    """POST `body` as JSON; return the decoded JSON answer.

    Raises ChatError: `timeout`, `connection`, `http` (a non-2xx status: the message
    quotes the body's start) or `protocol` (a 2xx body that is not JSON)."""
    import requests  # deferred: heavy (~0.2 s with urllib3), needed only to ask a server

    shown = hide_url_password(url)
    if timeout <= 0:  # requests would raise ValueError
        raise ChatError("timeout", f"{shown}: no time left to ask (timeout {timeout:g} s)")
    try:
        r = requests.post(url, json=body, headers=headers, timeout=timeout)
    except requests.Timeout:
        raise ChatError("timeout", f"{shown}: no answer within {timeout:g} s") from None
    except requests.ConnectionError as e:
        raise ChatError("connection", f"{shown}: cannot connect ({_reason(e)})") from None
    except requests.RequestException as e:
        raise ChatError("connection", f"{shown}: request failed ({_reason(e)})") from None
    if not 200 <= r.status_code < 300:
        raise ChatError("http", f"{shown}: HTTP {r.status_code}: {_quote(r.text)}")
    try:
        return r.json()
    except ValueError:
        raise ChatError("protocol", f"{shown}: the answer is not JSON: {_quote(r.text)}") from None


def _reason(e: Exception) -> str:
    return clean_line(f"{type(e).__name__}: {e}", BODY_QUOTE_CHARS)


def _quote(text: str) -> str:
    return clean_line(text, BODY_QUOTE_CHARS) or "(empty body)"


def _count(value: Any) -> int | None:
    """A token count from an answer, or None if absent or not a count."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _protocol_error(url: str, what: str, answer: Any) -> ChatError:
    quoted = _quote(json.dumps(answer, ensure_ascii=False))
    return ChatError("protocol", f"{hide_url_password(url)}: {what}: {quoted}")


# -- OpenAI-compatible servers ---------------------------------------------------------------


def _response_format(dialect: Structured, schema: dict[str, Any]) -> dict[str, Any] | None:
    if dialect == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema, "strict": True},
        }
    if dialect == "json_object":
        return {"type": "json_object", "schema": schema}
    return None


def _dialects(structured: str) -> tuple[Structured, ...]:
    """The dialects `make_client(structured=...)` tries, in order."""
    if structured == "auto":
        return _OPENAI_DIALECTS
    if structured == "json_schema":
        return ("json_schema",)
    if structured == "json_object":
        return ("json_object",)
    return ("none",)


class _OpenAIClient:
    """`POST {base_url}/chat/completions`, the schema in the dialect `structured` names."""

    def __init__(self, model: str, base_url: str, api_key: str, structured: str) -> None:
        self.name = f"openai/{model}"
        self._model = model
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._root = base_url.rstrip("/").removesuffix("/v1")
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._lock = threading.Lock()
        # The dialects to try, in order: `auto` narrows to the first that got a 2xx.
        self._dialects = _dialects(structured)
        # The tokenizer endpoint that works: None not tried yet, "" none does.
        self._tokenizer: tuple[str, str] | Literal[""] | None = None

    def ask(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any],
        *,
        max_tokens: int,
        timeout: float,
    ) -> ChatAnswer:
        """The model's answer; raises ChatError (for `auto`, the last dialect's HTTP error
        when every dialect got one)."""
        with self._lock:
            dialects = self._dialects
        seconds = 0.0
        for i, dialect in enumerate(dialects):
            body: dict[str, Any] = {
                "model": self._model,
                "messages": list(messages),
                "temperature": 0,
                "max_tokens": max_tokens,
                "stream": False,
            }
            response_format = _response_format(dialect, schema)
            if response_format is not None:
                body["response_format"] = response_format
            started = time.monotonic()
            try:
                answer = post_json(self._url, body, timeout, self._headers)
            except ChatError as e:
                seconds += time.monotonic() - started
                if e.kind != "http" or i == len(dialects) - 1:
                    raise
                continue
            seconds += time.monotonic() - started
            if len(dialects) > 1:
                with self._lock:
                    self._dialects = (dialect,)
            return self._answer(answer, seconds, dialect)
        raise AssertionError("unreachable: the last dialect returns or raises")

    def _answer(self, answer: Any, seconds: float, dialect: Structured) -> ChatAnswer:
        try:
            choice = answer["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise _protocol_error(self._url, "no choices[0].message.content", answer) from None
        if not isinstance(content, str):
            raise _protocol_error(self._url, "the answer's content is not text", answer)
        usage = answer.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        finish = choice.get("finish_reason") if isinstance(choice, dict) else None
        return ChatAnswer(
            text=content,
            prompt_tokens=_count(usage.get("prompt_tokens")),
            answer_tokens=_count(usage.get("completion_tokens")),
            seconds=seconds,
            structured=dialect,
            finish=finish if isinstance(finish, str) else None,
        )

    def count_tokens(
        self, messages: Sequence[Message], *, timeout: float = TOKENIZE_TIMEOUT
    ) -> tuple[int, bool]:
        """Exact with the server's tokenizer; otherwise `_estimate_tokens`, exact False.
        Never raises.

        The first call looks for the tokenizer endpoint. A server answering neither, or
        timing out on one, is taken to have none for the rest of this client's life: the
        estimate errs high, and waiting `timeout` before every question for a server that
        is hung, or busy (llama-cpp-python tokenizes behind a running completion), costs
        more than an exact count saves. Nothing listening is not remembered: it fails fast.
        """
        if timeout <= 0:  # no time to ask: says nothing about the server
            return _estimate_tokens(messages), False
        text = _prompt_text(messages)
        with self._lock:
            known = self._tokenizer
        candidates = _TOKENIZERS if known is None else (known,) if known else ()
        for path, key in candidates:
            try:
                answer = post_json(self._root + path, {key: text}, timeout)
                tokens = answer["tokens"]
                if not isinstance(tokens, list):
                    raise TypeError("tokens is not a list")
            except ChatError as e:
                if e.kind == "connection":
                    return _estimate_tokens(messages), False
                if e.kind == "timeout":
                    break
                continue
            except (KeyError, TypeError):
                continue
            if known is None:
                with self._lock:
                    self._tokenizer = (path, key)
            return len(tokens) + _template_allowance(messages), True
        if candidates:
            with self._lock:
                self._tokenizer = ""
        return _estimate_tokens(messages), False


# -- Ollama ----------------------------------------------------------------------------------


class _OllamaClient:
    """`POST {base}/api/chat`, the schema as `format`."""

    def __init__(self, model: str, base_url: str, structured: str, context_tokens: int) -> None:
        self.name = f"ollama/{model}"
        self._model = model
        self._url = base_url.rstrip("/").removesuffix("/v1").rstrip("/") + "/api/chat"
        self._format = structured != "off"
        self._context_tokens = context_tokens

    def ask(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any],
        *,
        max_tokens: int,
        timeout: float,
    ) -> ChatAnswer:
        """The model's answer; raises ChatError."""
        body: dict[str, Any] = {
            "model": self._model,
            "messages": list(messages),
            "stream": False,
            "options": {
                "temperature": 0,
                "num_ctx": self._context_tokens,
                "num_predict": max_tokens,
            },
        }
        if self._format:
            body["format"] = schema
        started = time.monotonic()
        answer = post_json(self._url, body, timeout)
        seconds = time.monotonic() - started
        try:
            content = answer["message"]["content"]
        except (KeyError, TypeError):
            raise _protocol_error(self._url, "no message.content", answer) from None
        if not isinstance(content, str):
            raise _protocol_error(self._url, "the answer's content is not text", answer)
        finish = answer.get("done_reason")
        return ChatAnswer(
            text=content,
            prompt_tokens=_count(answer.get("prompt_eval_count")),
            answer_tokens=_count(answer.get("eval_count")),
            seconds=seconds,
            structured="ollama_format" if self._format else "none",
            finish=finish if isinstance(finish, str) else None,
        )

    def count_tokens(
        self, messages: Sequence[Message], *, timeout: float = TOKENIZE_TIMEOUT
    ) -> tuple[int, bool]:
        """`_estimate_tokens`, exact False: Ollama has no tokenize endpoint."""
        return _estimate_tokens(messages), False
