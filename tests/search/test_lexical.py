"""The lexical ranking on its own: words, the thesaurus, names, BM25's order."""

from __future__ import annotations

import pytest

from logvigil.search.lexical import (
    COORDINATION,
    PART_WEIGHT,
    Document,
    LexicalIndex,
    _weighted,
    expand,
    words,
)

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


def test_the_thesaurus_adds_groups_of_phrases_that_count_as_one() -> None:
    q = expand("disk full")
    assert q.typed == ("disk", "full")
    # Groups hold phrases as words (they were words before phrases were scored whole).
    assert any(("space", "left", "devic") in g and ("enospc",) in g for g in q.groups)
    # "kill" is typed here and added by "memory": it is not added twice.
    assert all("kill" not in p for g in expand("killed memory").groups for p in g)


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


# More real lines, from the stores of tests/scenarios.
NOTFOUND = Document(
    11,
    "Sabre\\DAV\\Exception\\NotFound: File with name /Photos/<*> could not be located",
    ("nextcloud",),
)
LOGIN = Document(12, "Login successful: user <*> from <*>", ("nextcloud",))
UFW = Document(13, "[UFW BLOCK] IN=<*> OUT=<*> <*>", ("kernel",))
RESTIC = Document(14, "restic-backup.service: Failed with result 'exit-code'.", ("backup",))
KEX = Document(
    15,
    "Unable to negotiate with <*> port <*>: no matching key exchange method found. Their offer: "
    "diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1,diffie-hellman-group1-sha1 "
    "[preauth]",
    ("sshd",),
)
HOSTKEY = Document(16, "error: Could not load host key: /etc/ssh/<*>", ("sshd",))
SSH_EXIT = Document(17, "ssh.service: Main process exited, code=<*>, status=<*>", ("sshd",))
SSH_UP = Document(18, "ssh.service: Succeeded.", ("sshd",))
SSH_STOPPED = Document(19, "Stopped OpenBSD Secure Shell server.", ("sshd",))
REBOOT = Document(20, "The system will reboot now!", ("systemd-logind",))
SSH_STOPPING = Document(21, "Stopping ssh.service - OpenBSD Secure Shell server...", ("sshd",))
REDIS_INIT = Document(22, "Server initialized", ("redis",))
CPU = Document(23, "CPU1 is up", ("kernel",))
RESUMED = Document(24, "System resumed.", ("systemd-sleep",))
BAD_GATEWAY = Document(
    25,
    "upstream prematurely closed connection while reading response header from upstream, "
    'client: <*>, server: cloud.example.net, request: "GET <*> HTTP/<*>", upstream: "<*>", '
    'host: "cloud.example.net"',
    ("nginx",),
)
ACCESS = Document(
    26, '<*> - - <*> <*> HTTP/<*>" <*> <*> "-" "Mozilla/<*> (X11; Linux x86_<*>)"', ("nginx",)
)
SNAPSHOT = Document(27, "snapshot <*> saved: <*> files, <*> MiB added", ("backup",))


def test_an_identifier_is_also_cut_into_its_parts() -> None:
    """Programs write class names, snake_case fields, device and package names."""
    assert {"notfound", "found", "dav", "except"} <= set(words(NOTFOUND.text))
    assert {"oom_reap", "oom", "reaper"} <= set(words("oom_reaper: reaped process"))
    assert {"getuserbynam", "get", "user", "name"} <= set(words("GetUserByName: pq:"))
    assert {"sda2", "sda", "php", "fpm"} <= set(words("[sda2] php-fpm8.<*>"))
    assert words("x86_<*> 4711") == ["x86"]  # a part of one letter or digits says nothing
    reaper = Document(
        10,
        "oom_reaper: reaped process <*> (postgres), now anon-rss:<*>, file-rss:<*>, shmem-rss:<*>",
        ("postgres",),
    )
    index = LexicalIndex([NOTFOUND, LOGIN, OOM, CRON, reaper])
    assert top(index, "nextcloud file not found")[0] == 11
    assert top(index, "oom reaper")[0] == 10


def test_io_is_one_word() -> None:
    """The kernel's "I/O error": `I` is a stop word and `O` a letter, but `I/O` says it."""
    assert words("I/O error, dev sda, sector <*>") == ["io", "error", "dev", "sda", "sector"]
    assert expand("disk i/o errors").units[0] == ("io", "error")


def test_a_negated_verb_is_a_stop_word_that_a_phrase_can_hold() -> None:
    """ "can't connect" is about connecting: "cant" never counts against the lines that
    say "connect"; "won't start" still says the start failed."""
    q = expand("nextcloud can't connect to the db")
    assert q.typed == ("nextcloud", "connect", "db")
    assert any(("refus",) in g for g in q.groups)
    assert any(("unabl",) in g for g in expand("ssh won't start").groups)
    assert words("doesn't support DPO") == ["support", "dpo"]


def test_a_part_of_an_identifier_counts_less_than_a_word_written_alone() -> None:
    tf, length = _weighted("Command line: BOOT_IMAGE=<*> root=<*> ro quiet")
    assert tf["command"] == tf["boot_imag"] == 1.0
    assert tf["boot"] == tf["imag"] == PART_WEIGHT < 1
    assert length == 6  # words as written: a compound is one


def test_phrases_that_stem_alike_make_one_group() -> None:
    """ "crash" and "crashed" are two entries of one sense: the query gets one group."""
    assert len(expand("crashed").groups) == len(expand("crash").groups) == 1
    assert expand("crashed").groups == expand("crash").groups


def test_a_longer_phrase_said_hides_the_shorter_ones_inside_it() -> None:
    q = expand("disk full")
    assert len(q.groups) == 1  # not "disk"'s devices nor "full"'s group as well
    assert q.units == (("disk", "full"),)
    q = expand("scanners connect and hang up")
    assert any(("disconnect",) in g for g in q.groups)  # "hang up", not "hang"'s "stuck"
    assert not any(("stuck",) in g for g in q.groups)


def test_a_phrase_skips_the_stop_words_it_lacks_and_needs_those_it_holds() -> None:
    assert any(("reboot",) in g for g in expand("who restarted the server").groups)
    assert any(("notfound",) in g for g in expand("file not found").groups)
    assert not any(("notfound",) in g for g in expand("found the file").groups)
    logged_in = expand("who logged in").groups
    assert any(("session", "open") in g for g in logged_in)  # "log in", not "log"
    assert not any(("journald",) in g for g in logged_in)
    index = LexicalIndex([REBOOT, SSH_STOPPING, REDIS_INIT, CRON])
    assert top(index, "who restarted the server")[0] == 20


def test_a_status_code_or_an_errno_name_finds_what_programs_write() -> None:
    index = LexicalIndex([BAD_GATEWAY, ACCESS, ENOSPC, UPSTREAM])
    assert set(top(index, "502")[:2]) == {25, 4}  # nginx answers 502 for both
    assert set(top(index, "nginx 502 bad gateway")[:2]) == {25, 4}
    assert top(index, "enospc") == [2]
    assert expand("4711 errors").covers == expand("errors").covers  # an unknown number: none


def test_the_words_of_a_phrase_said_count_as_one_idea() -> None:
    """ "ran out of room" is one idea: `OUT=<*>` holds a third of it, the ENOSPC line all
    of it through the thesaurus."""
    assert expand("restic ran out of room").units == (("ran", "out", "room"), ("restic",))
    index = LexicalIndex([UFW, ENOSPC, RESTIC, SNAPSHOT])
    assert top(index, "restic ran out of room")[0] == 2


def test_a_phrase_programs_write_counts_more_found_whole() -> None:
    """ "kex" is logged as "key exchange": found whole it beats the "key" of "host key"."""
    index = LexicalIndex([HOSTKEY, KEX, SSH_EXIT, SSH_STOPPED])
    assert top(index, "ssh kex")[0] == 15
    assert top(index, "old client cipher mismatch")[0] == 15


def test_a_typed_name_counts_once_as_written_or_as_its_daemon() -> None:
    """ "ssh" is in `ssh.service` and names sshd: one word, counted once, so the line that
    also says "stopped" wins."""
    index = LexicalIndex([SSH_UP, SSH_STOPPED])
    assert top(index, "ssh stopped") == [19, 18]


def test_a_plural_snowball_leaves_whole_is_looked_up_without_its_s() -> None:
    index = LexicalIndex([CPU, RESUMED])
    assert top(index, "cpus") == [23]


def test_a_template_holding_fewer_of_the_ideas_scores_less() -> None:
    index = LexicalIndex([SNAPSHOT, RESTIC, UFW])
    alone = {s.id: s.score for s in index.search("snapshot")}[27]
    half = {s.id: s.score for s in index.search("snapshot restic")}[27]
    assert half == pytest.approx(alone * 0.5**COORDINATION, abs=1e-3)
