"""`ask --llm`: one model call words the deterministic answer's evidence, and code checks it.

The model never chooses what to read. The evidence is what the deterministic `ask`
gathered for the parsed question (`logvigil.search.ask`: the incidents of the range
with their reports' roots and summaries, the exact count, the busiest and the new
error templates, the templates that match the question's words with a sample line,
and the inventory neighbours of the services asked about). It is sent as numbered
facts, each under the id a reader can check (`#12`, `T41`, `N1`, `G1`), in one
prompt cut to half the model's context, with log text between `<<<LOG` and
`LOG>>>`. No SQL, query or tool name ever comes from the model.

The answer is constrained by a JSON schema (`investigate.chat`: grammar on llama.cpp
and Ollama): up to `MAX_SENTENCES` sentences, each with the ids it cites, chosen from
an enum of the evidence ids. Each sentence is then checked, and left out with the
reason when it:

- says nothing (fewer than three words, or the brief's or the question's own words);
- cites nothing, or only ids the evidence does not hold (possible when the server
  ignores the schema);
- names an id in its text (`#99`, `T7`) that is not in the evidence;
- states a number of two digits or more that is in none of the facts it cites nor
  in the question (times and dates aside): a count must be the store's count.

The answer is marked: `checked` (every sentence kept), `partly removed`, `unusable`
(none kept), or `failed: <why>` (timeout, server error, prompt too large); in the
last two cases the deterministic answer stands alone. Sentences are stored and shown
inert: one line, no control characters, mentions broken, URLs defanged.
"""

from __future__ import annotations

import re
from typing import Any

from investigate.chat import ChatClient, ChatError, Message
from investigate.llm import LLMConfig
from investigate.mdtext import defang_urls
from investigate.sanitize import clean_text, delimit
from investigate.verdict import CrewFailure, json_object, says_nothing
from logvigil.core.text import disarm_mentions
from logvigil.search.answer import Answer, Sentence, Synthesis

MAX_SENTENCES = 4
MAX_SENTENCE_CHARS = 240
MAX_CITES = 4
#: Facts sent at most; fewer when the prompt would take more than half the context.
MAX_FACTS = 40
FACT_CHARS = 300

BRIEF = (
    "You answer an operator's question about their machines' logs for LogVigil, a log "
    "watchdog. Use only the numbered facts below; each starts with its id.\n"
    f"Write 1 to {MAX_SENTENCES} short sentences in plain words that answer the question. "
    "In `cites`, list the ids of the facts each sentence uses. Never state a number, a "
    "name or an id that is not in those facts. If the facts do not answer the question, "
    "say so in one sentence citing the closest fact."
)

_ID_IN_TEXT = re.compile(r"(?<![\w#])#\d+\b|\b[TNG]\d+\b")
_TIME_OR_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}:\d{2}(?::\d{2})?\b")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def evidence_facts(a: Answer) -> dict[str, str]:
    """The answer's facts by id, one cleaned line each, most telling first."""
    facts: dict[str, str] = {}
    if a.count is not None:
        c = a.count
        line = f"{c.total} {c.what} in the range"
        if c.buckets:
            by = ", ".join(f"{start:%Y-%m-%d %H:%M} {n}" for start, n in c.buckets)
            line += f"; by {c.by}: {by}"
        facts["N1"] = line
    for i in a.incidents:
        root = f"root cause: {i.root}" if i.root else "no root cause found"
        line = (
            f"incident [{i.severity}] {i.title}; opened {i.opened_at:%Y-%m-%d %H:%M} UTC, "
            + (f"resolved {i.resolved_at:%Y-%m-%d %H:%M} UTC" if i.resolved_at else "still open")
            + f"; {root}"
        )
        if i.summary:
            line += f"; {i.summary}"
        if i.affected:
            line += f"; affected: {', '.join(i.affected)}"
        facts[f"#{i.id}"] = line
    for n, g in enumerate(a.neighbours, 1):
        facts[f"G{n}"] = (
            f"{g.service} depends on {', '.join(g.depends_on) or 'nothing declared'}; "
            f"used by {', '.join(g.used_by) or 'nothing declared'}"
        )
    for t in a.top_errors:
        who = ", ".join(t.services)
        facts[f"T{t.id}"] = f'error template with {t.lines} lines ({who}): "{t.template}"'
    for t in a.first_seen:
        if f"T{t.id}" not in facts:
            facts[f"T{t.id}"] = (
                f"template first seen {t.first_seen:%Y-%m-%d %H:%M} UTC ({', '.join(t.services)}): "
                f'"{t.template}"'
            )
    for h in a.matches:
        if f"T{h.template_id}" not in facts:
            facts[f"T{h.template_id}"] = (
                f"template matching the question, {h.lines} lines ({', '.join(h.services)}): "
                f'"{h.template}"' + (f'; sample: "{h.sample}"' if h.sample else "")
            )
    return {k: clean_text(v, FACT_CHARS) for k, v in list(facts.items())[:MAX_FACTS]}


def schema(ids: list[str]) -> dict[str, Any]:
    """The answer's shape: sentences citing ids of the evidence (an enum)."""
    return {
        "type": "object",
        "properties": {
            "sentences": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_SENTENCES,
                "items": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "maxLength": MAX_SENTENCE_CHARS},
                        "cites": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_CITES,
                            "items": {"type": "string", "enum": ids},
                        },
                    },
                    "required": ["text", "cites"],
                },
            }
        },
        "required": ["sentences"],
    }


def answer_tokens() -> int:
    """The most tokens the longest allowed answer takes (a character a token, ids ~4)."""
    return 16 + MAX_SENTENCES * (24 + MAX_SENTENCE_CHARS + MAX_CITES * 6)


def prompt(a: Answer, facts: dict[str, str]) -> str:
    """The brief, the facts, then the question last: a small model answers what it read last."""
    lines = "\n".join(f"{k}: {v}" for k, v in facts.items())
    return (
        f"{BRIEF}\n\nFacts from {a.start:%Y-%m-%d %H:%M} to {a.end:%Y-%m-%d %H:%M} UTC:\n"
        f"{delimit(lines, 'facts') if lines else '(none: nothing in the store matches)'}\n\n"
        f"The operator asks: {clean_text(a.question, 300)}\n"
        "Answer in sentences, each with the ids it cites."
    )


def _numbers(text: str) -> set[str]:
    text = _TIME_OR_DATE.sub(" ", _ID_IN_TEXT.sub(" ", text))
    return {m.group(0).replace(",", "").rstrip(".") for m in _NUMBER.finditer(text)}


def check_sentence(
    raw: Any, facts: dict[str, str], question: str
) -> tuple[Sentence | None, str | None]:
    """(the sentence as kept, None) or (None, why it is left out)."""
    if not isinstance(raw, dict):
        return None, "not a sentence object"
    text = disarm_mentions(defang_urls(clean_text(str(raw.get("text") or ""))))
    if says_nothing(text, f"{BRIEF} {question}"):
        return None, f"says nothing: {text!r}"
    cites_raw = raw.get("cites") or []
    cites = tuple(
        dict.fromkeys(c for c in cites_raw if isinstance(c, str) and c in facts)
        if isinstance(cites_raw, list)
        else ()
    )
    invented = [m.group(0) for m in _ID_IN_TEXT.finditer(text) if m.group(0) not in facts]
    if invented:
        return None, f"names {', '.join(invented)}, not in the evidence: {text!r}"
    if not cites:
        return None, f"cites no evidence that exists: {text!r}"
    known = _numbers(question).union(*(_numbers(facts[c]) for c in cites))
    stated = [n for n in _numbers(text) if len(n.split(".")[0]) >= 2 and n not in known]
    if stated:
        return None, f"states {', '.join(sorted(stated))}, not in the facts it cites: {text!r}"
    return Sentence(text, cites), None


def synthesise(a: Answer, client: ChatClient, config: LLMConfig) -> Synthesis:
    """The model's checked wording of `a`'s evidence (see the module's doc). Never raises
    for the model's or the server's faults: they are the synthesis's `status`."""
    facts = evidence_facts(a)
    cap = min(answer_tokens(), config.max_answer_tokens)
    room = min(config.context_tokens - cap, config.context_tokens // 2)
    keep = len(facts)
    while True:
        sent = dict(list(facts.items())[:keep])
        messages: list[Message] = [{"role": "user", "content": prompt(a, sent)}]
        counted, _exact = client.count_tokens(messages, timeout=min(config.timeout_seconds, 10))
        if counted <= room:
            break
        if keep == 0:
            return Synthesis(
                client.name,
                [],
                [],
                f"failed: budget: the prompt takes {counted} tokens, {room} are left for it",
            )
        keep //= 2
    try:
        ids = sorted(sent) or ["none"]
        got = client.ask(messages, schema(ids), max_tokens=cap, timeout=config.timeout_seconds)
    except ChatError as e:
        return Synthesis(client.name, [], [], f"failed: {e.kind}: {e}")
    base: dict[str, Any] = {
        "prompt_tokens": got.prompt_tokens,
        "answer_tokens": got.answer_tokens,
        "seconds": got.seconds,
    }
    if got.finish == "length":
        return Synthesis(client.name, [], [], f"failed: the answer was cut at {cap} tokens", **base)
    try:
        said = json_object(got.text, "the answer")
    except CrewFailure as e:
        return Synthesis(client.name, [], [], f"failed: {e.reason}", **base)
    raw = said.get("sentences")
    kept: list[Sentence] = []
    removed: list[str] = []
    for item in (raw if isinstance(raw, list) else [])[:MAX_SENTENCES]:
        sentence, why = check_sentence(item, sent, a.question)
        if sentence is not None:
            kept.append(sentence)
        elif why is not None:
            removed.append(why)
    status = "unusable" if not kept else ("partly removed" if removed else "checked")
    return Synthesis(client.name, kept, removed, status, **base)
