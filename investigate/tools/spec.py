"""What every evidence tool shares: its spec, its argument models, and its output bounds.

A tool is a function of a `ToolContext` and typed arguments that returns a
`ToolResult` and never raises (`total`): a `ToolError` is an ERROR with the
refusal's message, any other exception an ERROR naming it. Every `data` is a
JSON-able dict whose lists are bounded (`MAX_ROWS`) and whose encoding is at
most `MAX_OUTPUT_CHARS` (`ok` cuts lists from the end and `truncated` counts
the cut rows).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, ValidationError

from investigate.model import ToolResult, ToolStatus
from investigate.tools.context import ToolContext, ToolError
from logvigil.core.configbase import Strict
from logvigil.core.text import truncate

#: Rows in any list a tool returns.
MAX_ROWS = 40
#: Characters of a tool's JSON output (its `data`), whatever the rows.
MAX_OUTPUT_CHARS = 8000

ServiceName = Annotated[
    str,
    Field(
        min_length=1, max_length=255, description="a service name as the logs or inventory spell it"
    ),
]


class ToolArgs(Strict):
    """Tool arguments: unknown keys are refused (the model is told which)."""


class NoArgs(ToolArgs):
    pass


class ServiceArgs(ToolArgs):
    service: ServiceName


class OptionalServiceArgs(ToolArgs):
    service: ServiceName | None = None


@dataclass(frozen=True, slots=True)
class ToolSpec[A: ToolArgs]:
    """One tool as a model sees it: a name, a description, typed arguments, and the call."""

    name: str
    description: str
    args: type[A]
    call: Callable[[ToolContext, A], ToolResult]

    def invoke(self, ctx: ToolContext, arguments: Mapping[str, Any]) -> ToolResult:
        """Validate `arguments` and call; a validation error is an ERROR result, never raised."""
        try:
            parsed = self.args.model_validate(dict(arguments))
        except ValidationError as e:
            detail = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
                for err in e.errors(include_url=False)
            )
            return ToolResult(
                self.name, ToolStatus.ERROR, None, f"invalid arguments for {self.name}: {detail}"
            )
        except Exception as e:  # arguments that are not even a mapping
            return ToolResult(self.name, ToolStatus.ERROR, None, f"invalid arguments: {e}")
        return self.call(ctx, parsed)

    def schema(self) -> dict[str, Any]:
        """JSON schema of the arguments (for a model's function-calling interface)."""
        return self.args.model_json_schema()


def total[**P](name: str) -> Callable[[Callable[P, ToolResult]], Callable[P, ToolResult]]:
    """Make tool `name` total: ToolError and any other exception become an ERROR result."""

    def wrap(tool: Callable[P, ToolResult]) -> Callable[P, ToolResult]:
        @functools.wraps(tool)
        def inner(*args: P.args, **kwargs: P.kwargs) -> ToolResult:
            try:
                return tool(*args, **kwargs)
            except ToolError as e:
                return ToolResult(name, ToolStatus.ERROR, None, str(e))
            except Exception as e:  # a tool never raises into the crew
                return ToolResult(name, ToolStatus.ERROR, None, f"{type(e).__name__}: {e}")

        return inner

    return wrap


def bounded(data: dict[str, Any]) -> dict[str, Any]:
    """Cut `data`'s lists to MAX_ROWS, then from the end until its JSON fits MAX_OUTPUT_CHARS."""
    cut = 0
    for key, value in list(data.items()):
        if isinstance(value, list) and len(value) > MAX_ROWS:
            cut += len(value) - MAX_ROWS
            data[key] = value[:MAX_ROWS]

    def size() -> int:
        return len(json.dumps(data, default=str, ensure_ascii=False))

    while size() > MAX_OUTPUT_CHARS:
        lists = [k for k, v in data.items() if isinstance(v, list) and v]
        if not lists:
            break
        longest = max(lists, key=lambda k: (len(json.dumps(data[k], default=str)), k))
        data[longest].pop()
        cut += 1
    if cut:
        data["truncated"] = data.get("truncated", 0) + cut
    return data


def ok(name: str, data: dict[str, Any], rows_key: str | None = None) -> ToolResult:
    """`data` bounded, as an OK result; NO_DATA when its `rows_key` list is empty."""
    data = bounded(data)
    if rows_key is not None and not data.get(rows_key):
        return ToolResult(name, ToolStatus.NO_DATA, data)
    return ToolResult(name, ToolStatus.OK, data)


def result_text(result: ToolResult, max_chars: int = MAX_OUTPUT_CHARS + 500) -> str:
    """The compact JSON of `result` as a model is given it, at most `max_chars` characters."""
    return truncate(
        json.dumps(result.to_json(), ensure_ascii=False, sort_keys=True, default=str), max_chars
    )
