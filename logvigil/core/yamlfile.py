"""YAML files that remember where each value came from.

Operators edit `logvigil.yaml` and `inventory.yaml` by hand, so every error
must point at a file, a line and a dotted field path. `load_yaml` keeps the
line of every mapping key and sequence item; `problems_from_validation` turns a
pydantic `ValidationError` into `Problem`s carrying those lines, with a
"did you mean" for misspelt keys.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

PathKey = tuple[str | int, ...]

#: Fields whose value is never echoed back in an error (it may hold a password or token).
SENSITIVE_FIELDS = frozenset({"url", "webhook_url", "password", "api_key", "token", "secret"})


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input file, located as precisely as known."""

    file: str
    line: int | None
    path: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        field_ = f" {self.path}:" if self.path else ""
        kind = "warning: " if self.warning else ""
        return f"{where}:{field_} {kind}{self.message}"


class ConfigError(Exception):
    """A configuration or inventory file is invalid. Carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = [p for p in problems if not p.warning]
        self.warnings = [p for p in problems if p.warning]
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid configuration")


@dataclass
class YamlDoc:
    """Parsed YAML plus the 1-based line of every key / item path."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)
    duplicates: list[Problem] = field(default_factory=list)

    def line_of(self, path: PathKey) -> int | None:
        """The line of `path`, or of its nearest located ancestor."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)


def dotted(path: PathKey) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _walk(node: yaml.Node, path: PathKey, doc: YamlDoc) -> None:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                doc.duplicates.append(
                    Problem(
                        doc.file,
                        line,
                        dotted((*path, key)),
                        f"duplicate key {key!r} (first defined on line {seen[key]})",
                    )
                )
                continue
            seen[key] = line
            doc.lines[(*path, key)] = line
            _walk(value_node, (*path, key), doc)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            doc.lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), doc)


#: libyaml's loader when available (several times faster), else the pure-Python one.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: A document may expand through its aliases (`*name`) to at most this many times its
#: own number of values (scalars, lists and mappings)...
ALIAS_EXPANSION_FACTOR = 10
#: ...or to this many values, whichever is more: a small file may reuse an anchor freely.
ALIAS_EXPANSION_FLOOR = 10_000
#: Lists and mappings nest at most this deep (aliases included); real files use < 10.
MAX_DEPTH = 64
#: Sizes are counted up to here and no further (a "billion laughs" has 10**9 and more).
_SATURATE = 10**15

_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


class _Refused(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None
        self.message = message


def _check_structure(text: str, loader_cls: type) -> None:
    """Refuse, before anything is built, a document that nests too deeply or whose
    aliases expand it far beyond its size (a "billion laughs"), or refer to themselves.

    One pass over the parser's events, in time and memory proportional to the text:
    each anchored value's expanded size and height are remembered, each alias adds
    them to the value that holds it. Raises `_Refused` at the offending line; syntax
    errors are left to the composer, which reports them better.
    """
    # Per open list/mapping: [expanded size, height of what it holds, its anchor].
    stack: list[list[Any]] = []
    anchors: dict[str, tuple[int, int] | None] = {}  # None: still open (an alias to it loops)
    distinct = expanded = 0
    biggest: tuple[int, str, Any] | None = None  # (size, anchor, mark) of the largest alias

    def add(size: int, height: int) -> None:
        nonlocal expanded
        if stack:
            top = stack[-1]
            top[0] = min(top[0] + size, _SATURATE)
            top[1] = max(top[1], height)
        else:
            expanded = min(expanded + size, _SATURATE)

    for event in yaml.parse(text, Loader=loader_cls):
        if isinstance(event, yaml.DocumentStartEvent):
            anchors.clear()
        elif isinstance(event, _OPEN):
            distinct += 1
            if len(stack) >= MAX_DEPTH:
                raise _Refused(event.start_mark, f"nested too deeply: more than {MAX_DEPTH} levels")
            if event.anchor is not None:
                anchors[event.anchor] = None
            stack.append([1, 0, event.anchor])
        elif isinstance(event, _CLOSE):
            size, height, anchor = stack.pop()
            if anchor is not None:
                anchors[anchor] = (size, height + 1)
            add(size, height + 1)
        elif isinstance(event, yaml.ScalarEvent):
            distinct += 1
            if event.anchor is not None:
                anchors[event.anchor] = (1, 0)
            add(1, 0)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                continue  # an undefined alias: the composer reports it
            ref = anchors[event.anchor]
            if ref is None:
                raise _Refused(
                    event.start_mark,
                    f"alias *{event.anchor} refers to a value that contains it (a recursive alias)",
                )
            size, height = ref
            if len(stack) + height > MAX_DEPTH:
                raise _Refused(
                    event.start_mark,
                    f"nested too deeply: alias *{event.anchor} reaches more than "
                    f"{MAX_DEPTH} levels",
                )
            if biggest is None or size > biggest[0]:
                biggest = (size, event.anchor, event.start_mark)
            add(size, height)
    limit = max(ALIAS_EXPANSION_FLOOR, ALIAS_EXPANSION_FACTOR * distinct)
    if expanded > limit and biggest is not None:
        size, anchor, mark = biggest

        def amount(n: int) -> str:
            return f"more than {_SATURATE:,}" if n >= _SATURATE else f"{n:,}"

        raise _Refused(
            mark,
            f"too many aliases: alias expansion makes the document {amount(expanded)} values "
            f"(*{anchor} here alone {amount(size)}); the limit is {limit:,} "
            f"({ALIAS_EXPANSION_FACTOR} times its own {distinct:,} values, "
            f"at least {ALIAS_EXPANSION_FLOOR:,})",
        )


def _compose_and_construct(text: str, loader_cls: type, doc: YamlDoc) -> Any:
    """The document's data; `doc` gets the lines, walked before construction (which
    rewrites merge keys `<<` in place, so merged keys would look like duplicates)."""
    _check_structure(text, loader_cls)
    loader = loader_cls(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _walk(node, (), doc)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_yaml(text: str, file: str) -> YamlDoc:
    """Parse YAML text; raises ConfigError naming the line of a syntax error."""
    doc = YamlDoc(file=file, data=None)
    try:
        doc.data = _compose_and_construct(text, _Loader, doc)
    except _Refused as exc:
        raise ConfigError([Problem(file, exc.line, "", exc.message)]) from None
    except yaml.YAMLError:
        # Re-parse with the pure-Python loader: its messages are more precise.
        doc = YamlDoc(file=file, data=None)
        try:
            doc.data = _compose_and_construct(text, yaml.SafeLoader, doc)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            msg = " ".join(s for s in (exc.context, exc.problem) if s) or "invalid YAML"
            ctx = exc.context_mark
            if ctx is not None and line is not None and ctx.line + 1 != line:
                msg += f" (the construct started on line {ctx.line + 1})"
            raise ConfigError([Problem(file, line, "", f"YAML syntax error: {msg}")]) from None
        except _Refused as exc:
            raise ConfigError([Problem(file, exc.line, "", exc.message)]) from None
        except yaml.YAMLError as exc:
            raise ConfigError([Problem(file, None, "", f"YAML error: {exc}")]) from None
    return doc


def load_yaml(path: Path | str) -> YamlDoc:
    """Read and parse a YAML file; raises ConfigError for unreadable or invalid files."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([Problem(str(path), None, "", "file not found")]) from None
    except OSError as exc:
        raise ConfigError([Problem(str(path), None, "", f"cannot read: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            [Problem(str(path), line, "", f"not valid UTF-8 (byte {exc.start})")]
        ) from None
    return parse_yaml(text, str(path))


def _model_of(annotation: Any) -> list[type[BaseModel]]:
    """BaseModel classes reachable from an annotation (through Optional, unions, lists, dicts)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _model_of(a)]
    return []


def _allowed_keys(model: type[BaseModel], loc: Sequence[str | int]) -> set[str]:
    """Field names (and aliases) accepted at `loc` inside `model`, best effort."""
    candidates: list[type[BaseModel]] = [model]
    for part in loc:
        nxt: list[type[BaseModel]] = []
        for m in candidates:
            f = m.model_fields.get(str(part)) if isinstance(part, str) else None
            if f is None:
                # dict keys, list indexes and union tags: stay on the same level
                continue
            ann = f.annotation
            nxt.extend(_model_of(ann))
            for arg in typing.get_args(ann):
                nxt.extend(_model_of(arg))
                for inner in typing.get_args(arg):
                    nxt.extend(_model_of(inner))
        if nxt:
            candidates = nxt
    keys: set[str] = set()
    for m in candidates:
        for name, f in m.model_fields.items():
            keys.add(f.alias or name)
    return keys


def suggest(word: str, choices: set[str]) -> str:
    """' (did you mean "x"?)' when a close match exists, else ''."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def problems_from_validation(
    err: ValidationError, doc: YamlDoc, model: type[BaseModel], prefix: PathKey = ()
) -> list[Problem]:
    """Convert a pydantic error on `doc.data` (validated as `model`) into located problems."""
    problems: list[Problem] = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        # Discriminated unions add the tag as a path element; drop it for the user.
        data_path = _data_path(doc.data, loc, prefix, keep_missing=e["type"] == "missing")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            key = str(loc[-1])
            allowed = _allowed_keys(model, [p for p in loc[:-1] if isinstance(p, str)])
            msg = f"unknown key {key!r}{suggest(key, allowed)}"
        elif e["type"] == "missing":
            msg = "required field is missing"
        elif e["type"] == "union_tag_invalid":
            ctx = e.get("ctx", {})
            tag = str(ctx.get("tag"))
            expected = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
            msg = (
                f"unknown {ctx.get('discriminator', 'type').strip(chr(39))} {tag!r}"
                f"{suggest(tag, set(expected))} (expected one of: {', '.join(expected)})"
            )
        elif loc and str(loc[-1]) in SENSITIVE_FIELDS:
            pass  # never echo a value that may carry a secret
        elif "input" in e:
            shown = repr(e["input"])
            if len(shown) > 60:
                shown = shown[:57] + "..."
            if not isinstance(e["input"], dict | list):
                msg = f"{msg}, got: {shown}"
        problem = Problem(doc.file, doc.line_of((*prefix, *data_path)), dotted(data_path), msg)
        same = next(
            (i for i, p in enumerate(problems) if (p.line, p.path) == (problem.line, problem.path)),
            None,
        )
        if same is None:
            problems.append(problem)
        elif msg not in problems[same].message:  # a union: one message per member type
            old = problems[same]
            problems[same] = Problem(old.file, old.line, old.path, f"{old.message}; or {msg}")
    return problems


def _data_path(
    data: Any, loc: tuple[Any, ...], prefix: PathKey, *, keep_missing: bool = False
) -> PathKey:
    """The part of a pydantic `loc` that names places in the data.

    Pydantic inserts union tags (`sources.0.file.path`); those are dropped. A
    last element absent from the data (a missing field) is kept.
    """
    node: Any = data
    for p in prefix:
        try:
            node = node[p]
        except (KeyError, IndexError, TypeError):
            node = None
            break
    out: list[str | int] = []
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            out.append(part)
        elif last and keep_missing and isinstance(part, str):
            out.append(part)
    return tuple(out)
