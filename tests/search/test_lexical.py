"""The lexical ranking on its own: words, the thesaurus, names, BM25's order."""

from __future__ import annotations

import pytest

from logvigil.search.lexical import Document, LexicalIndex, expand, words

# Templates as the miner writes them, from the programs' real wording.
OOM = Document(
    1, "Out of memory: Killed process <*> (postgres) total-vm:<*>, anon-rss:<*>", ("kernel",)
)
ENOSPC = Document(
    2, "Fatal: unable to save snapshot: write /srv/backup/<*>: no space left on device", ("backup",)
)
SSHD = Document(3, "Failed password for invalid user <*> from <*> port <*> ssh2", ("sshd",))
UPSTREAM = Document(
    4, "<*> connect() failed (111: Connection refused) while connecting to upstream", ("nginx",)
)
PGUNIT = Document(
    5, "postgresql@<*>-main.service: Failed with result 'oom-kill'.", ("postgresql@15-main",)
)
CRON = Document(6, "(root) CMD ( cd / && run-parts --report /etc/cron.hourly)", ("CRON",))
ALL = [OOM, ENOSPC, SSHD, UPSTREAM, PGUNIT, CRON]


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex(ALL)


def top(index: LexicalIndex, query: str) -> list[int]:
    return [s.id for s in index.search(query)]


def test_words_are_stemmed_and_placeholders_numbers_and_stop_words_dropped() -> None:
    assert words("Killed process <*> (postgres) 4711 of the") == ["kill", "process", "postgr"]
    assert words("killing KILLS killed") == ["kill"] * 3
    assert words("<*> <*>:<*> 10.0.0.1") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("postgres killed", {1, 5}),  # the typed words; both OOM kills of postgres
        ("disk full on the nas", {2}),  # "No space left on device": the thesaurus
        ("ssh brute force", {3}),  # "ssh" begins the service name sshd; "Failed password"
        ("nginx can't reach the backend", {4}),  # "upstream", "refused"
        ("out of memory", {1}),
        ("cron jobs", {6}),
    ],
)
def test_an_operators_words_find_what_programs_write(
    index: LexicalIndex, query: str, expected: set[int]
) -> None:
    assert top(index, query)[0] in expected


def test_the_thesaurus_adds_groups_of_words_that_count_as_one() -> None:
    q = expand("disk full")
    assert q.typed == ("disk", "full")
    assert any("space" in g and "enospc" in g for g in q.groups)
    # "kill" is typed here and added by "memory": it is not added twice.
    assert all("kill" not in g for g in expand("killed memory").groups)


def test_a_long_thesaurus_entry_cannot_outweigh_a_typed_name() -> None:
    """ "ssh brute force": the sshd line wins over another program's failed logins, though
    the entry for "brute force" holds many of that line's words."""
    gitea = Document(
        7, "Failed authentication attempt for <*> from <*>: user's password is invalid", ("gitea",)
    )
    index = LexicalIndex([gitea, SSHD, OOM, CRON])
    assert top(index, "ssh brute force")[0] == 3


def test_a_service_filter_keeps_only_the_allowed_templates(index: LexicalIndex) -> None:
    assert top(index, "oom killed")[:2] == [5, 1] or top(index, "oom killed")[:2] == [1, 5]
    assert [s.id for s in index.search("oom killed", allowed={5})] == [5]


def test_the_rarer_word_ranks_higher(index: LexicalIndex) -> None:
    # "failed" is in three templates, "refused" in one.
    assert top(index, "failed refused")[0] == 4


@pytest.mark.parametrize(
    "query", ["", "   ", "<*>", "!!!", "(.*)+$", "a" * 10_000, "日本語 ログ", "\x00\x1b[31m"]
)
def test_a_hostile_or_empty_query_finds_nothing_and_never_fails(
    index: LexicalIndex, query: str
) -> None:
    assert index.search(query) == []


def test_an_empty_index_finds_nothing() -> None:
    assert LexicalIndex([]).search("postgres") == []
