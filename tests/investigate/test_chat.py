"""`investigate.chat` against real local HTTP servers.

1. Stdlib servers of our own, each speaking one server's dialect of the protocol
   (every request recorded): an OpenAI-compatible server honouring `json_schema`;
   one rejecting it with a 500 like llama-cpp-python and honouring `json_object`
   with a schema; one taking no `response_format`; broken and slow ones; tokenizer
   endpoints of llama.cpp and llama-cpp-python; Ollama's `/api/chat`.
2. The real llama.cpp server (`python -m llama_cpp.server`, the 270M Gemma, the
   session fixture `llama_server` of `conftest.py`): the dialect `auto` settles on,
   the grammar's enum and `maxLength`, and our token count against the server's.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from http_support import send_json

from investigate.chat import ChatError, make_client

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "hypothesis": {"enum": ["H1", "H2", "none"]},
        "why": {"type": "string", "maxLength": 120},
    },
    "required": ["hypothesis", "why"],
}
MESSAGES = [
    {"role": "system", "content": "You pick the hypothesis that explains the incident."},
    {"role": "user", "content": "H1: postgres disk full at 10:02. H2: api deploy at 10:05."},
]
ANSWER = '{"hypothesis": "H1", "why": "the disk filled first"}'


@dataclass
class Request:
    path: str
    body: Any
    headers: dict[str, str]


#: What a fake server does with a request: (status, body bytes).
Route = Callable[[Request], tuple[int, bytes]]


@dataclass
class Server:
    url: str  # http://127.0.0.1:<port>
    requests: list[Request] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def completion(
    content: Any = ANSWER, finish: str = "stop", usage: dict[str, int] | None = None
) -> bytes:
    """An OpenAI chat completion carrying `content`."""
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
            }
        ],
    }
    body["usage"] = usage or {"prompt_tokens": 41, "completion_tokens": 13, "total_tokens": 54}
    return json.dumps(body).encode()


@pytest.fixture
def serve() -> Iterator[Callable[[Route], Server]]:
    """Start a local HTTP server answering with `route`; all are shut down at the end."""
    started: list[ThreadingHTTPServer] = []
    release = threading.Event()  # frees the handlers of a slow server

    def start(route: Route) -> Server:
        server_box: list[Server] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
                request = Request(self.path, body, dict(self.headers))
                server_box[0].requests.append(request)
                code, data = route(request)
                if code == 0:  # slow: answer nothing until the test ends
                    release.wait(10)
                    code, data = 200, completion()
                send_json(self, code, data)

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        started.append(httpd)
        server_box.append(Server(f"http://127.0.0.1:{httpd.server_address[1]}"))
        return server_box[0]

    yield start
    release.set()
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


def openai_server(accepts: set[str | None]) -> Route:
    """An OpenAI-compatible `/v1/chat/completions` accepting the response formats
    `accepts` (None: no response_format); others get llama-cpp-python's 500."""

    def route(req: Request) -> tuple[int, bytes]:
        if req.path != "/v1/chat/completions":
            return 404, b'{"detail": "Not Found"}'
        kind = (req.body.get("response_format") or {}).get("type")
        if kind not in accepts:
            return 500, (
                b'{"error": {"message": "1 validation error: Input should be '
                b'\'text\' or \'json_object\'", "type": "internal_server_error"}}'
            )
        return 200, completion()

    return route


def ask(client: Any, timeout: float = 5) -> Any:
    return client.ask(MESSAGES, SCHEMA, max_tokens=77, timeout=timeout)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- OpenAI-compatible: the request and the dialects -----------------------------------------


def test_the_schema_goes_as_json_schema_with_the_model_cap_temperature_and_key(serve) -> None:
    server = serve(openai_server({"json_schema"}))
    client = make_client("openai", "gemma-3-270m", server.url + "/v1/", api_key="k3y")

    answer = ask(client)

    assert client.name == "openai/gemma-3-270m"
    assert answer.text == ANSWER and json.loads(answer.text)["hypothesis"] == "H1"
    assert (answer.prompt_tokens, answer.answer_tokens) == (41, 13)
    assert answer.structured == "json_schema" and answer.finish == "stop"
    assert 0 <= answer.seconds < 5
    (req,) = server.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["Authorization"] == "Bearer k3y"
    assert req.body == {
        "model": "gemma-3-270m",
        "messages": MESSAGES,
        "temperature": 0,
        "max_tokens": 77,
        "stream": False,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True},
        },
    }


def test_without_a_key_the_placeholder_is_sent(serve) -> None:
    server = serve(openai_server({"json_schema"}))
    ask(make_client("openai", "m", server.url + "/v1"))
    assert server.requests[0].headers["Authorization"] == "Bearer anything"


def test_auto_falls_back_to_json_object_like_llama_cpp_python_and_remembers_it(serve) -> None:
    server = serve(openai_server({"json_object"}))
    client = make_client("openai", "m", server.url + "/v1")

    first = ask(client)
    assert first.structured == "json_object" and first.text == ANSWER
    formats = [r.body.get("response_format") for r in server.requests]
    assert formats == [
        {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True},
        },
        {"type": "json_object", "schema": SCHEMA},
    ]

    second = ask(client)
    assert second.structured == "json_object"
    assert len(server.requests) == 3  # straight to json_object
    assert server.requests[2].body["response_format"]["type"] == "json_object"


def test_a_server_taking_no_response_format_is_asked_without_one(serve) -> None:
    def route(req: Request) -> tuple[int, bytes]:
        if "response_format" in req.body:
            return 400, b'{"error": {"message": "response_format is not supported"}}'
        return 200, completion()

    server = serve(route)
    client = make_client("openai", "m", server.url + "/v1")

    assert ask(client).structured == "none"
    assert len(server.requests) == 3
    assert "response_format" not in server.requests[2].body
    assert ask(client).structured == "none" and len(server.requests) == 4


def test_concurrent_first_questions_all_settle_on_the_working_dialect(serve) -> None:
    server = serve(openai_server({"json_object"}))
    client = make_client("openai", "m", server.url + "/v1")
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: ask(client), range(8)))
    assert {a.structured for a in answers} == {"json_object"}
    ask(client)
    assert server.requests[-1].body["response_format"]["type"] == "json_object"


@pytest.mark.parametrize(
    ("structured", "sent"),
    [
        ("json_schema", "json_schema"),
        ("json_object", "json_object"),
        ("off", None),
    ],
)
def test_a_chosen_dialect_is_the_only_one_tried(serve, structured: str, sent: str | None) -> None:
    server = serve(lambda req: (500, b'{"error": "no"}'))
    client = make_client("openai", "m", server.url + "/v1", structured=structured)

    with pytest.raises(ChatError) as e:
        ask(client)

    assert e.value.kind == "http"
    (req,) = server.requests
    assert (req.body.get("response_format") or {}).get("type") == sent


def test_off_sends_no_response_format_and_says_none(serve) -> None:
    server = serve(openai_server({None}))
    answer = ask(make_client("openai", "m", server.url + "/v1", structured="off"))
    assert answer.structured == "none"
    assert "response_format" not in server.requests[0].body


def test_a_missing_usage_or_finish_reason_is_none_not_an_error(serve) -> None:
    body = json.dumps({"choices": [{"message": {"content": "{}"}}]}).encode()
    server = serve(lambda req: (200, body))
    answer = ask(make_client("openai", "m", server.url + "/v1"))
    assert (answer.text, answer.prompt_tokens, answer.answer_tokens, answer.finish) == (
        "{}",
        None,
        None,
        None,
    )


def test_a_cut_answer_says_length(serve) -> None:
    server = serve(lambda req: (200, completion('{"hypothesis": "H1", "wh', finish="length")))
    assert ask(make_client("openai", "m", server.url + "/v1")).finish == "length"


# -- OpenAI-compatible: failures -------------------------------------------------------------


def test_a_server_failing_every_dialect_raises_the_last_http_error(serve) -> None:
    server = serve(lambda req: (500, b'{"error": {"message": "boom\\nat line 2"}}'))
    url = server.url + "/v1"

    with pytest.raises(ChatError) as e:
        ask(make_client("openai", "m", url))

    assert e.value.kind == "http"
    message = str(e.value)
    assert f"{url}/chat/completions" in message and "HTTP 500" in message and "boom" in message
    assert "\n" not in message
    assert len(server.requests) == 3
    assert "response_format" not in server.requests[-1].body  # the last one's error


def test_the_quoted_body_of_an_error_is_bounded(serve) -> None:
    server = serve(lambda req: (503, b"x" * 5000))
    with pytest.raises(ChatError) as e:
        ask(make_client("openai", "m", server.url + "/v1", structured="off"))
    assert "HTTP 503" in str(e.value) and len(str(e.value)) < 320


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"<html>not json</html>", "not JSON"),
        (completion(None), "not text"),
        (b'{"choices": []}', "no choices[0].message.content"),
        (b'{"object": "chat.completion"}', "no choices[0].message.content"),
        (b"[1, 2]", "no choices[0].message.content"),
    ],
    ids=["garbage", "content-null", "no-choice", "no-choices", "a-list"],
)
def test_an_answer_that_is_not_a_completion_is_a_protocol_error(
    serve, body: bytes, what: str
) -> None:
    server = serve(lambda req: (200, body))
    with pytest.raises(ChatError) as e:
        ask(make_client("openai", "m", server.url + "/v1"))
    assert e.value.kind == "protocol"
    assert what in str(e.value) and server.url in str(e.value)
    assert len(server.requests) == 1  # a 2xx is not a reason to try another dialect


def test_a_slow_server_times_out_at_once_without_trying_other_dialects(serve) -> None:
    server = serve(lambda req: (0, b""))
    started = time.monotonic()
    with pytest.raises(ChatError) as e:
        ask(make_client("openai", "m", server.url + "/v1"), timeout=0.5)
    assert time.monotonic() - started < 3
    assert e.value.kind == "timeout" and "0.5 s" in str(e.value)
    assert len(server.requests) == 1


def test_nothing_listening_is_a_connection_error() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    client = make_client("openai", "m", url)
    with pytest.raises(ChatError) as e:
        ask(client)
    assert e.value.kind == "connection" and url in str(e.value)
    assert client.count_tokens(MESSAGES)[1] is False  # the estimate, no exception


def test_errors_name_the_url_without_its_password_or_the_api_key() -> None:
    url = f"http://bob:hunter2@127.0.0.1:{_closed_port()}/v1"
    with pytest.raises(ChatError) as e:
        ask(make_client("openai", "m", url, api_key="sk-secret"))
    assert "hunter2" not in str(e.value) and "sk-secret" not in str(e.value)
    assert "bob:***@127.0.0.1" in str(e.value)


# -- token counts ----------------------------------------------------------------------------


def tokenizer(path: str, key: str) -> Route:
    """A server whose tokenizer is at `path` and reads `key`: one token per word."""

    def route(req: Request) -> tuple[int, bytes]:
        if req.path == path and isinstance(req.body, dict) and key in req.body:
            return 200, json.dumps({"tokens": list(range(len(req.body[key].split())))}).encode()
        return 404, b'{"detail": "Not Found"}'

    return route


WORDS = sum(len(m["content"].split()) for m in MESSAGES)
ALLOWANCE = 8 * len(MESSAGES) + 8


@pytest.mark.parametrize(
    ("path", "key"),
    [("/tokenize", "content"), ("/extras/tokenize", "input")],
    ids=["llama-server", "llama-cpp-python"],
)
def test_the_servers_tokenizer_counts_exactly_and_is_remembered(serve, path: str, key: str) -> None:
    server = serve(tokenizer(path, key))
    client = make_client("openai", "m", server.url + "/v1")

    assert client.count_tokens(MESSAGES) == (WORDS + ALLOWANCE, True)
    tries = len(server.requests)
    assert server.paths()[-1] == path
    assert server.requests[-1].body == {key: "\n".join(m["content"] for m in MESSAGES)}

    assert client.count_tokens(MESSAGES) == (WORDS + ALLOWANCE, True)
    assert server.paths()[tries:] == [path]


def test_without_a_tokenizer_the_count_is_a_conservative_estimate(serve) -> None:
    server = serve(tokenizer("/nowhere", "x"))
    client = make_client("openai", "m", server.url + "/v1")
    chars = len("\n".join(m["content"] for m in MESSAGES))

    count, exact = client.count_tokens(MESSAGES)

    assert exact is False
    assert count == -(-chars * 2 // 5) + ALLOWANCE  # ceil(chars / 2.5)
    assert server.paths() == ["/tokenize", "/extras/tokenize"]
    client.count_tokens(MESSAGES)
    assert len(server.requests) == 2  # known to have none: not asked again


def test_a_hung_tokenizer_costs_one_timeout_then_is_not_asked_again(serve) -> None:
    server = serve(lambda req: (0, b""))
    client = make_client("openai", "m", server.url + "/v1")

    started = time.monotonic()
    assert client.count_tokens(MESSAGES, timeout=0.3)[1] is False
    assert time.monotonic() - started < 2
    assert server.paths() == ["/tokenize"]  # a hung server is not asked at the next path
    client.count_tokens(MESSAGES, timeout=0.3)
    assert len(server.requests) == 1


def test_no_time_left_is_a_timeout_without_a_request(serve) -> None:
    server = serve(tokenizer("/tokenize", "content"))
    client = make_client("openai", "m", server.url + "/v1")
    with pytest.raises(ChatError) as e:
        ask(client, timeout=0)
    assert e.value.kind == "timeout"
    assert client.count_tokens(MESSAGES, timeout=0)[1] is False
    assert server.requests == []
    assert client.count_tokens(MESSAGES)[1] is True  # the tokenizer is not written off


def test_a_tokenizer_answering_nonsense_gives_the_estimate(serve) -> None:
    server = serve(lambda req: (200, b'{"tokens": 3}'))
    assert make_client("openai", "m", server.url + "/v1").count_tokens(MESSAGES)[1] is False


# -- Ollama ----------------------------------------------------------------------------------


def ollama_server(req: Request) -> tuple[int, bytes]:
    if req.path != "/api/chat":
        return 404, b"404 page not found"
    if req.body.get("model") != "llama3.2:1b":
        return 404, b'{"error": "model \\"x\\" not found, try pulling it first"}'
    return 200, json.dumps(
        {
            "model": "llama3.2:1b",
            "created_at": "2025-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": ANSWER},
            "done_reason": "stop",
            "done": True,
            "prompt_eval_count": 52,
            "eval_count": 17,
        }
    ).encode()


def test_ollama_gets_the_schema_as_format_and_its_counts_are_read(serve) -> None:
    server = serve(ollama_server)
    client = make_client("ollama", "llama3.2:1b", server.url + "/v1/", context_tokens=2048)

    answer = ask(client)

    assert client.name == "ollama/llama3.2:1b"
    assert (answer.text, answer.prompt_tokens, answer.answer_tokens) == (ANSWER, 52, 17)
    assert (answer.structured, answer.finish) == ("ollama_format", "stop")
    (req,) = server.requests
    assert req.path == "/api/chat"
    assert req.body == {
        "model": "llama3.2:1b",
        "messages": MESSAGES,
        "stream": False,
        "format": SCHEMA,
        "options": {"temperature": 0, "num_ctx": 2048, "num_predict": 77},
    }


def test_ollama_without_structure_sends_no_format(serve) -> None:
    server = serve(ollama_server)
    answer = ask(make_client("ollama", "llama3.2:1b", server.url, structured="off"))
    assert answer.structured == "none" and "format" not in server.requests[0].body


def test_ollama_errors_quote_its_message(serve) -> None:
    server = serve(ollama_server)
    with pytest.raises(ChatError) as e:
        ask(make_client("ollama", "x", server.url))
    assert e.value.kind == "http" and "HTTP 404" in str(e.value) and "not found" in str(e.value)
    assert f"{server.url}/api/chat" in str(e.value)


def test_ollama_counts_are_estimates(serve) -> None:
    server = serve(ollama_server)
    count, exact = make_client("ollama", "llama3.2:1b", server.url).count_tokens(MESSAGES)
    assert exact is False and count > ALLOWANCE
    assert server.requests == []


# -- make_client -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("none", "m", "http://x/v1"), {}, "provider must be 'openai' or 'ollama', got: 'none'"),
        (("openai", "m", None), {}, "base_url is required for provider 'openai'"),
        (("openai", "", "http://x/v1"), {}, "model must be a model name"),
        (
            ("openai", "m", "http://x/v1"),
            {"structured": "grammar"},
            "structured must be one of auto, json_schema, json_object, off, got: 'grammar'",
        ),
        (("ollama", "m", None), {"context_tokens": 0}, "context_tokens must be positive, got: 0"),
    ],
)
def test_bad_arguments_are_a_value_error_naming_the_field(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        make_client(*args, **kwargs)


def test_ollama_has_a_default_url() -> None:
    assert make_client("ollama", "llama3.2:1b", None).name == "ollama/llama3.2:1b"


# -- the real llama.cpp server ---------------------------------------------------------------


@pytest.mark.slow
def test_the_real_llama_cpp_server_answers_within_the_schema(llama_server: str) -> None:
    """llama-cpp-python 0.3.36 with the 270M Gemma: `json_schema` is refused with a 500,
    `auto` settles on `json_object` (its grammar holds the enum), and its tokenizer
    (`/extras/tokenize`) gives an exact count. The count is at or above the server's:
    Gemma's template drops the system message, and the allowance errs high."""
    client = make_client("openai", "gemma-3-270m", llama_server)

    with pytest.raises(ChatError) as refused:
        make_client("openai", "gemma-3-270m", llama_server, structured="json_schema").ask(
            MESSAGES, SCHEMA, max_tokens=10, timeout=120
        )
    assert refused.value.kind == "http" and "HTTP 500" in str(refused.value)
    assert "json_object" in str(refused.value)

    counted, exact = client.count_tokens(MESSAGES)
    answer = client.ask(MESSAGES, SCHEMA, max_tokens=120, timeout=300)
    again = client.ask(MESSAGES, SCHEMA, max_tokens=120, timeout=300)
    print(
        f"\nllama.cpp: {answer.structured} {answer.text!r} finish={answer.finish} "
        f"usage={answer.prompt_tokens}+{answer.answer_tokens} counted={counted} exact={exact} "
        f"first={answer.seconds:.2f}s (with the refused json_schema) again={again.seconds:.2f}s"
    )
    assert answer.structured == again.structured == "json_object"
    parsed = json.loads(answer.text)
    assert parsed["hypothesis"] in {"H1", "H2", "none"}
    assert isinstance(parsed["why"], str) and len(parsed["why"]) <= 120
    assert answer.prompt_tokens and answer.prompt_tokens > 0
    assert exact is True
    assert answer.prompt_tokens <= counted <= answer.prompt_tokens + 40

    # The grammar honours maxLength: a model asked for a long story stops at 10 characters.
    story = [
        {"role": "user", "content": 'Write a long story about a full disk, as JSON {"why": ...}.'}
    ]
    short = {"type": "object", "properties": {"why": {"type": "string", "maxLength": 10}}}
    short["required"] = ["why"]
    cut = client.ask(story, short, max_tokens=200, timeout=300)
    print(f"maxLength 10: {cut.text!r} in {cut.seconds:.2f}s")
    assert len(json.loads(cut.text)["why"]) <= 10
