"""Group log messages into templates with stable integer ids.

The algorithm is Drain's (He et al., ICWS 2017), reshaped so that where a
template lives and which template a message gets depend on the templates'
text alone:

1. The message is split on whitespace and every token is masked
   (`masking.py`), so `took 12ms` and `took 7ms` are both `took <*>`. A
   netfilter packet log line is masked whole to its prefix and
   `IN=<*> OUT=<*> <*>` (`masking.netfilter_tokens`); it only ever joins a
   template it equals, so each log prefix keeps a template of its own.
2. Templates are grouped by token count and *anchor*: the first token that
   holds no wildcard, with its position. Logs often open with a variable (an
   address, an id) and then name the event, so the first constant token is
   the one that separates events (`<ip> "GET ...` from `<ip> "POST ...`).
3. The message is compared with the templates of its group, oldest first.
   Similarity is the share of positions where template and message hold the
   same token, leaving out the positions where both hold a bare `<*>` (a
   masked time or id in every line says nothing about the event). A template
   the message *fits* (every non-wildcard position equal) wins, the most
   specific one first; otherwise the most similar one wins if its similarity
   reaches the threshold, and the positions that differ become `<*>` (the
   template generalises and keeps its id).
4. No template is similar enough: a new one is made, with id max + 1, or
   the next id of the `next_id` allocator when one is given (several ingest
   processes writing into one store draw ids from reserved blocks).

The anchor of a template never generalises (every message compared with it
has the same anchor), so a template stays in its group for life. The choice
in step 3 is a pure function of the current `(id, text)` pairs, and the
message caches are emptied whenever a template is created or changed, so a
miner rebuilt from the persisted pairs answers exactly as the live one does.
"""

from __future__ import annotations

import re
from bisect import insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import eq
from typing import Annotated

from pydantic import Field

from logvigil.core.configbase import Strict
from logvigil.ingest.templates.masking import (
    NETFILTER_FIELDS,
    WILDCARD,
    TokenMasker,
    is_netfilter,
    mask_calendar,
    netfilter_tokens,
)

_GroupKey = tuple[int, int, str]

#: A number right-aligned in brackets: the kernel prints its uptime "[%5lu.%06lu]"
#: (kernel/printk/printk.c, print_time), so "[    2.525973]" is two tokens and
#: "[34798.540185]" one, and one message would fall into two templates by its time.
_PADDED_NUMBER = re.compile(r"\[ +(?=\d+(?:\.\d+)?\])")


class MinerConfig(Strict):
    """The template miner's knobs.

    The defaults are THE configuration, used for every kind of log; nothing
    is tuned per source (see docs/templates.md for how they were chosen). Every
    number is bounded: memory follows the sizes, so a typo cannot exhaust the host.
    """

    #: A message joins a template when at least this share of its tokens equal
    #: the template's. Above one half, so that a two-token message (`Link ok`,
    #: `Link error`) never loses its only word besides the anchor.
    similarity_threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.6
    #: Tokens kept per message; the rest are folded into one trailing `<*>`.
    max_tokens: Annotated[int, Field(ge=2, le=10_000)] = 100
    #: A token longer than this many characters is a blob and becomes `<*>`.
    max_token_length: Annotated[int, Field(ge=8, le=65_536)] = 200
    #: Templates per (token count, anchor) group, which bounds the work for
    #: one message. In a full group, a message that fits no template joins
    #: the most similar one whatever the similarity.
    max_templates_per_group: Annotated[int, Field(ge=1, le=100_000)] = 200
    #: Templates in all. Once reached, a message whose group does not exist is
    #: compared with the anchorless group of its length and joins its most
    #: similar template; in all, at most max_templates + max_tokens + 1.
    max_templates: Annotated[int, Field(ge=1, le=10_000_000)] = 50_000
    #: Messages (and masked token sequences) remembered; 0 turns caching off.
    cache_size: Annotated[int, Field(ge=0, le=10_000_000)] = 10_000
    #: Messages longer than this many characters are never cached.
    max_cached_message_length: Annotated[int, Field(ge=0, le=1_048_576)] = 1024
    #: Distinct raw tokens whose masked form is remembered.
    token_cache_size: Annotated[int, Field(ge=1, le=10_000_000)] = 50_000


@dataclass(frozen=True, slots=True)
class Match:
    """The template a message belongs to.

    `created` is true when this message made a new template; `changed` when
    it generalised an existing template's text (its id is unchanged).
    """

    template_id: int
    template: str
    created: bool
    changed: bool


class _Template:
    """One template. Mutable: generalising rewrites `tokens` and `matched`."""

    __slots__ = ("id", "matched", "tokens", "wild")

    def __init__(self, template_id: int, tokens: tuple[str, ...]) -> None:
        self.id = template_id
        self.set_tokens(tokens)

    def set_tokens(self, tokens: tuple[str, ...]) -> None:
        self.tokens = tokens
        #: Positions that are a bare wildcard.
        self.wild = tuple(i for i, t in enumerate(tokens) if t == WILDCARD)
        #: The answer for a message that neither creates nor changes it.
        self.matched = Match(self.id, " ".join(tokens), created=False, changed=False)

    @property
    def text(self) -> str:
        return self.matched.template


def _group_key(tokens: tuple[str, ...]) -> _GroupKey:
    """Return (token count, anchor position, anchor); (n, -1, "") if every
    token holds a wildcard."""
    for i, token in enumerate(tokens):
        if WILDCARD not in token:
            return (len(tokens), i, token)
    return (len(tokens), -1, "")


def _template_id(template: _Template) -> int:
    return template.id


class TemplateMiner:
    """Learns templates from messages; see the module docstring.

    `add` and `match` accept any `str` and never raise. Not thread-safe: one
    miner belongs to one ingest loop.
    """

    def __init__(
        self,
        config: MinerConfig | None = None,
        templates: Iterable[tuple[int, str]] = (),
        next_id: Callable[[], int] | None = None,
    ) -> None:
        """Build a miner, optionally from persisted `(id, text)` pairs.

        `next_id` returns the id of each new template (ids it returns that are
        already taken are skipped); by default a new template gets max + 1.
        Raises ValueError when an id is not a positive integer or repeats.
        """
        self.config = config if config is not None else MinerConfig()
        self._threshold = self.config.similarity_threshold
        self._groups: dict[_GroupKey, list[_Template]] = {}
        self._by_id: dict[int, _Template] = {}
        self._dirty: dict[int, _Template] = {}
        self._cache: dict[str, _Template] = {}
        #: masked tokens -> (template, the key of the group it was found in)
        self._masked_cache: dict[tuple[str, ...], tuple[_Template, _GroupKey]] = {}
        #: group key -> the messages and masked tokens cached from a lookup in that group
        self._cached_messages: dict[_GroupKey, list[str]] = {}
        self._cached_masked: dict[_GroupKey, list[tuple[str, ...]]] = {}
        self._masker = TokenMasker(self.config.token_cache_size, self.config.max_token_length)
        self._next_id = 1
        self._allocate = next_id
        for template_id, text in templates:
            self._restore(template_id, text)

    # -- public API --------------------------------------------------------

    def add(self, message: str) -> Match:
        """Learn from `message` and return its template. Never raises."""
        template = self._cache.get(message)
        if template is not None:
            return template.matched
        masked = self._mask(message)
        hit = self._masked_cache.get(masked)
        if hit is not None:
            template, key = hit
            self._remember(message, masked, template, key, masked_cached=True)
            return template.matched

        key, group = self._group(masked)
        best, same, fits = self._best(masked, group)
        if best is not None and fits:
            self._remember(message, masked, best, key)
            return best.matched
        n = len(masked)
        if best is not None:
            # Positions where both hold a masked variable (a time, an id, an address in
            # every line) say nothing about whether this is the template's event: the
            # share of equal tokens is counted over the other positions (Drain's
            # similarity also leaves out its wildcards). Else a header of masked fields
            # makes unrelated short messages look alike.
            both = sum(1 for i in best.wild if masked[i] == WILDCARD)
            same, n = same - both, max(n - both, 1)
        if best is None or same < self._threshold * n or self._exact_only(message, masked):
            room = (
                len(group) < self.config.max_templates_per_group
                and len(self._by_id) < self.config.max_templates
            )
            if room or best is None:
                return self._create(message, masked, key)
        # Similar enough, or no room left: generalise.
        best.set_tokens(
            tuple(t if t == m else WILDCARD for t, m in zip(best.tokens, masked, strict=True))
        )
        self._dirty[best.id] = best
        self._forget(key)
        self._remember(message, masked, best, key)
        return Match(best.id, best.text, created=False, changed=True)

    def match(self, message: str) -> Match | None:
        """Return the template `message` fits exactly, or None. Never learns
        and never raises.

        This is the template `add` would return without creating or changing
        anything; a message that `add` would generalise a template for gets None.
        """
        template = self._cache.get(message)
        if template is not None:
            return template.matched
        masked = self._mask(message)
        hit = self._masked_cache.get(masked)
        if hit is not None:
            return hit[0].matched
        best, _, fits = self._best(masked, self._group(masked)[1])
        return best.matched if best is not None and fits else None

    def templates(self) -> list[tuple[int, str]]:
        """Return every template as `(id, text)`, by id."""
        return [(i, self._by_id[i].text) for i in sorted(self._by_id)]

    def text_of(self, template_id: int) -> str:
        """The current text of template `template_id`. Raises KeyError for an unknown id."""
        return self._by_id[template_id].text

    def take_dirty(self) -> list[tuple[int, str]]:
        """Return the templates created or changed since the last call, as
        `(id, current text)` by id, and forget them: the caller persists these."""
        dirty = sorted((t.id, t.text) for t in self._dirty.values())
        self._dirty.clear()
        return dirty

    def __len__(self) -> int:
        return len(self._by_id)

    # -- internals ---------------------------------------------------------

    def _restore(self, template_id: int, text: str) -> None:
        if type(template_id) is not int or template_id < 1:
            raise ValueError(f"template id must be a positive integer, got: {template_id!r}")
        if template_id in self._by_id:
            raise ValueError(f"template id {template_id} appears twice")
        template = _Template(template_id, tuple(self._fold(str(text).split())))
        self._by_id[template_id] = template
        insort(self._groups.setdefault(_group_key(template.tokens), []), template, key=_template_id)
        self._next_id = max(self._next_id, template_id + 1)

    def _fold(self, tokens: list[str]) -> list[str]:
        cap = self.config.max_tokens
        if len(tokens) > cap:
            del tokens[cap - 1 :]
            tokens.append(WILDCARD)
        return tokens

    def _mask(self, message: str) -> tuple[str, ...]:
        if "OUT=" in message and (packet := netfilter_tokens(message, self._masker)):
            return packet
        if "[ " in message:  # printk's "[    2.525973]": one token whatever the uptime
            message = _PADDED_NUMBER.sub("[", message)
        masked = list(map(self._masker.__getitem__, self._fold(message.split())))
        return tuple(mask_calendar(masked))

    @staticmethod
    def _exact_only(message: str, masked: tuple[str, ...]) -> bool:
        """A packet log line never generalises a template: its prefix is the firewall
        rule's action and chain, and `[UFW AUDIT]` is not `[UFW BLOCK]` though
        four of their five tokens are equal."""
        return masked[-3:] == NETFILTER_FIELDS and is_netfilter(message)

    def _group(self, masked: tuple[str, ...]) -> tuple[_GroupKey, list[_Template]]:
        """Return the key and templates of the group `masked` is compared with."""
        key = _group_key(masked)
        group = self._groups.get(key)
        if group is not None:
            return key, group
        if len(self._by_id) >= self.config.max_templates:
            key = (len(masked), -1, "")
            return key, self._groups.get(key, [])
        return key, []

    @staticmethod
    def _best(
        masked: tuple[str, ...], group: list[_Template]
    ) -> tuple[_Template | None, int, bool]:
        """Return (template, equal positions, fits) for the best template of
        `group`, or (None, -1, False) for an empty group.

        A template the message fits beats one it does not; then more equal
        positions win; then the lowest id (the group is sorted by id).
        """
        n = len(masked)
        best: _Template | None = None
        best_rank = (False, -1)
        for template in group:
            same = sum(map(eq, template.tokens, masked))
            if same == n:
                return template, same, True
            fits = bool(template.wild) and (
                same + sum(masked[i] != WILDCARD for i in template.wild) == n
            )
            rank = (fits, same)
            if rank > best_rank:
                best, best_rank = template, rank
        return best, best_rank[1], best_rank[0]

    def _create(self, message: str, masked: tuple[str, ...], key: _GroupKey) -> Match:
        if self._allocate is not None:
            template_id = self._allocate()
            while template_id in self._by_id:
                template_id = self._allocate()
        else:
            template_id = self._next_id
        self._next_id = max(self._next_id, template_id + 1)
        template = _Template(template_id, masked)
        self._by_id[template.id] = template
        insort(self._groups.setdefault(key, []), template, key=_template_id)
        self._dirty[template.id] = template
        self._forget(key)
        self._remember(message, masked, template, key)
        return Match(template.id, template.text, created=True, changed=False)

    def _remember(
        self,
        message: str,
        masked: tuple[str, ...],
        template: _Template,
        key: _GroupKey,
        masked_cached: bool = False,
    ) -> None:
        """Cache the answer for `message` (never cached yet: `add` answers cached ones
        first) and, unless `masked_cached`, for `masked`, found in the group `key`."""
        size = self.config.cache_size
        if size == 0:
            return
        cache = self._cache
        if len(message) <= self.config.max_cached_message_length:
            if len(cache) >= size:
                cache.clear()
                self._cached_messages.clear()
            cache[message] = template
            filed = self._cached_messages.get(key)
            if filed is None:
                filed = self._cached_messages[key] = []
            filed.append(message)
        if masked_cached:
            return
        masked_cache = self._masked_cache
        if len(masked_cache) >= size:
            masked_cache.clear()
            self._cached_masked.clear()
        masked_cache[masked] = (template, key)
        filed_masked = self._cached_masked.get(key)
        if filed_masked is None:
            filed_masked = self._cached_masked[key] = []
        filed_masked.append(masked)

    def _forget(self, key: _GroupKey) -> None:
        """Drop the cached answers found in the group `key`, where a template was just
        created or widened: it can be a better answer for them, and only for them (a
        lookup compares a message with its group's templates alone; templates never
        leave their group). Answers stay equal to a fresh lookup, and a log that keeps
        meeting new messages no longer loses every other group's answers each time."""
        cache, masked_cache = self._cache, self._masked_cache
        for message in self._cached_messages.pop(key, ()):
            cache.pop(message, None)
        for masked in self._cached_masked.pop(key, ()):
            masked_cache.pop(masked, None)
