"""The journald sources against real components: journal files written by Debian's
`systemd-journal-remote`, read by the real `journalctl`, locally and through a real
`sshd` on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from detector.detectors.base import Window
from detector.detectors.host_unreachable import HostUnreachable
from logvigil.app.sources import SourcePool
from logvigil.core.events import LogEvent, Severity
from logvigil.core.findings import Finding
from logvigil.ingest.formats import ReadOptions, read_events
from logvigil.ingest.sources.base import LineSource
from logvigil.ingest.sources.journald import (
    JournaldConfig,
    JournaldSource,
    JournalProcess,
    line_cursor,
)
from logvigil.ingest.sources.ssh_journald import (
    SshJournaldConfig,
    SshJournaldSource,
)

JOURNAL_REMOTE = next(
    (
        p
        for p in ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote")
        if Path(p).exists()
    ),
    None,
)
JOURNALCTL = shutil.which("journalctl")
SSHD = shutil.which("sshd") or next((p for p in ("/usr/sbin/sshd",) if Path(p).exists()), None)
SSH = shutil.which("ssh")
SSH_KEYGEN = shutil.which("ssh-keygen")

needs_journal = pytest.mark.skipif(
    JOURNALCTL is None or JOURNAL_REMOTE is None,
    reason="needs journalctl and systemd-journal-remote "
    "(apt-get install -y systemd systemd-journal-remote)",
)
needs_ssh = pytest.mark.skipif(
    SSHD is None or SSH is None or SSH_KEYGEN is None,
    reason="needs sshd, ssh and ssh-keygen (apt-get install -y openssh-server openssh-client)",
)

#: Bound on every wait for a real process; a passing test takes far less.
WAIT_S = 30.0


# ---------------------------------------------------------------- helpers


def write_journal(path: Path, first: int, count: int, *, age: timedelta = timedelta(0)) -> None:
    """Append entries `first`..`first+count-1` ("hello N", postgres on db-01, priority
    err) to the journal file `path`, stamped `age` before now, one second apart."""
    assert JOURNAL_REMOTE is not None
    base = int((datetime.now(UTC) - age).timestamp() * 1_000_000)
    records = []
    for i in range(first, first + count):
        records.append(
            f"__REALTIME_TIMESTAMP={base + i * 1000}\n"
            f"__MONOTONIC_TIMESTAMP={i}\n"
            "_BOOT_ID=0123456789abcdef0123456789abcdef\n"
            "_HOSTNAME=db-01\n"
            "SYSLOG_IDENTIFIER=postgres\n"
            "_TRANSPORT=syslog\n"
            "PRIORITY=3\n"
            f"MESSAGE=hello {i}\n\n"
        )
    export_to_journal(records, path)


def export_to_journal(records: list[str], path: Path) -> None:
    """Write journal export records (`FIELD=value` lines, a blank line after each)
    into the journal file `path` with the real systemd-journal-remote."""
    assert JOURNAL_REMOTE is not None
    subprocess.run(
        [JOURNAL_REMOTE, "-o", str(path), "-"],
        input="".join(records).encode(),
        capture_output=True,
        check=True,
        timeout=WAIT_S,
    )


def collect(
    source: JournalProcess,
    count: int,
    *,
    max_lines: int = 5000,
    until: Callable[[], bool] | None = None,
) -> list[bytes]:
    """Poll `source` until it returned `count` lines (and `until()` holds), at most WAIT_S."""
    got: list[bytes] = []
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if len(got) >= count and (until is None or until()):
            break
        batch = source.poll(max_lines)
        got += batch.lines
        if not batch.lines:
            time.sleep(0.02)
    return got


def messages(lines: list[bytes]) -> list[str]:
    events = list(read_events(lines, "journal", ReadOptions(source="journald")))
    assert all(isinstance(e, LogEvent) for e in events), events
    return [e.message for e in events if isinstance(e, LogEvent)]


def hello(first: int, count: int) -> list[str]:
    return [f"hello {i}" for i in range(first, first + count)]


def unreachable_findings(sources: list[LineSource], now: datetime) -> list[Finding]:
    """What the `host_unreachable` detector finds at `now` in the health records the
    daemon writes for `sources` (each with the source's own grace)."""
    records = SourcePool(sources, clock=lambda: now).health("hub-01:1", now)
    window = Window(now, now, sources=tuple(records))
    findings, _ = HostUnreachable().evaluate(window, {}, now)
    return findings


# ---------------------------------------------------------------- local journald


@needs_journal
def test_entries_of_a_journal_file_become_log_events_with_the_last_cursor(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "a.journal"
    write_journal(journal, 0, 5)
    source = JournaldSource(file=journal, since=None)
    try:
        lines = collect(source, 5)
        events = list(read_events(lines, "journal", ReadOptions(source=source.name)))
    finally:
        source.close()
    assert [e.message for e in events if isinstance(e, LogEvent)] == hello(0, 5)
    first = events[0]
    assert isinstance(first, LogEvent)
    assert (first.host, first.service, first.severity) == ("db-01", "postgres", Severity.ERROR)
    assert first.attributes["__CURSOR"] == line_cursor(lines[0])
    assert source.cursor == line_cursor(lines[-1])
    assert source.format == "journal"
    assert source.error is None


@needs_journal
def test_a_source_started_from_a_cursor_reads_only_the_entries_after_it(tmp_path: Path) -> None:
    journal = tmp_path / "a.journal"
    write_journal(journal, 0, 3)
    first = JournaldSource(file=journal, since=None)
    try:
        assert messages(collect(first, 3)) == hello(0, 3)
        cursor = first.cursor
    finally:
        first.close()
    write_journal(journal, 3, 2)  # appended to the same file
    second = JournaldSource(cursor, file=journal, since=None)
    try:
        assert messages(collect(second, 2)) == hello(3, 2)
        assert collect(second, 0) == []
    finally:
        second.close()


@needs_journal
def test_a_single_file_is_read_again_from_the_cursor_when_it_grows(tmp_path: Path) -> None:
    journal = tmp_path / "a.journal"
    write_journal(journal, 0, 2)
    source = JournaldSource(file=journal, since=None, reread_s=0.05)
    try:
        assert messages(collect(source, 2)) == hello(0, 2)
        write_journal(journal, 2, 3)
        assert messages(collect(source, 3)) == hello(2, 3)
        assert source.error is None  # reaching the end of a file is not a failure
    finally:
        source.close()


@needs_journal
def test_a_followed_directory_yields_new_files_and_entries_as_they_are_written(
    tmp_path: Path,
) -> None:
    write_journal(tmp_path / "one.journal", 0, 3)
    source = JournaldSource(directory=tmp_path)  # default since -1h: these are recent
    try:
        assert messages(collect(source, 3)) == hello(0, 3)
        write_journal(tmp_path / "two.journal", 3, 2)
        assert messages(collect(source, 2)) == hello(3, 2)
        write_journal(tmp_path / "one.journal", 5, 1)
        assert messages(collect(source, 1)) == hello(5, 1)
    finally:
        source.close()
    # Started from that cursor, a new source sees only what is written afterwards.
    resumed = JournaldSource(source.cursor, directory=tmp_path)
    try:
        write_journal(tmp_path / "three.journal", 6, 2)
        assert messages(collect(resumed, 2)) == hello(6, 2)
    finally:
        resumed.close()


@needs_journal
def test_a_first_start_reads_the_last_hour_by_default_and_nothing_old(tmp_path: Path) -> None:
    write_journal(tmp_path / "old.journal", 0, 2, age=timedelta(hours=3))
    write_journal(tmp_path / "new.journal", 2, 2, age=timedelta(minutes=10))
    source = JournaldSource(directory=tmp_path)
    try:
        # Entries come in time order: had the old ones been read, they would come first.
        assert messages(collect(source, 2)) == hello(2, 2)
    finally:
        source.close()


@needs_journal
def test_a_killed_journalctl_is_restarted_from_its_cursor_with_no_line_twice_or_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_journal(tmp_path / "a.journal", 0, 400)
    # A small queue keeps journalctl blocked mid-stream, so the kill cuts it short.
    source = JournaldSource(directory=tmp_path, queue_lines=5, backoff_s=0.05)
    try:
        lines = collect(source, 20, max_lines=10)
        killed = source.pid
        assert killed is not None
        os.kill(killed, signal.SIGKILL)
        lines += collect(source, 400 - len(lines), max_lines=10)
        assert source.pid not in (None, killed)
        write_journal(tmp_path / "b.journal", 400, 3)
        lines += collect(source, 403 - len(lines))
    finally:
        source.close()
    assert messages(lines) == hello(0, 403)
    assert "exited with status -9" in caplog.text


@needs_journal
def test_a_malformed_stored_cursor_is_ignored_rather_than_looping_on_journalctl_errors(
    tmp_path: Path,
) -> None:
    write_journal(tmp_path / "a.journal", 0, 2)
    source = JournaldSource("not a cursor", file=tmp_path / "a.journal", since=None)
    try:
        assert messages(collect(source, 2)) == hello(0, 2)
    finally:
        source.close()


def test_a_missing_journalctl_is_reported_in_error_and_retried_not_raised(
    tmp_path: Path,
) -> None:
    source = JournaldSource(journalctl=str(tmp_path / "no-journalctl"), backoff_s=0.01)
    try:
        batch = source.poll()
        assert batch.lines == [] and not batch.finished
        assert "cannot run" in (source.error or "") and "no-journalctl" in (source.error or "")
    finally:
        source.close()


def test_the_journald_config_refuses_unknown_keys_and_builds_a_source() -> None:
    spec = JournaldConfig.model_validate(
        {"type": "journald", "units": ["nginx.service"], "since": "today"}
    )
    source = JournaldSource.from_config(spec, "s=1;i=2")
    assert source._argv(source.cursor) == [
        "journalctl",
        "--output=json",
        "--no-pager",
        "--follow",
        "--unit=nginx.service",
        "--after-cursor=s=1;i=2",
        "--lines=all",
    ]
    with pytest.raises(ValueError, match="unit"):
        JournaldConfig.model_validate({"type": "journald", "unit": "x"})
    with pytest.raises(ValueError, match="either directory or file"):
        JournaldConfig.model_validate({"type": "journald", "file": "a", "directory": "b"})


# ---------------------------------------------------------------- journald over SSH


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (sshd's per-connection children start new sessions,
    so a process group would miss them)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class Sshd:
    """A real sshd on loopback, run as the current user with throwaway keys."""

    config: Path
    port: int
    client_key: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert SSHD is not None
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.config), "-p", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited with status {self.proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("sshd did not listen in time")

    def kill(self) -> None:
        """sshd and every session it serves die at once, as when the host goes down."""
        if self.proc is None:
            return
        for pid in [self.proc.pid, *descendants(self.proc.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def source(self, directory: Path, **options: object) -> SshJournaldSource:
        return SshJournaldSource(
            "127.0.0.1",
            user=os.environ.get("USER") or "root",
            port=self.port,
            identity_file=self.client_key,
            ssh_options=[
                "StrictHostKeyChecking=no",
                "UserKnownHostsFile=/dev/null",
                "LogLevel=ERROR",
            ],
            extra_args=[f"--directory={directory}"],
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    if SSHD is None or SSH is None or SSH_KEYGEN is None:
        pytest.skip("needs sshd, ssh and ssh-keygen (apt-get install -y openssh-server)")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    d = tmp_path_factory.mktemp("sshd")
    for key in ("host_key", "client_key"):
        subprocess.run(
            [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(d / key)], check=True
        )
    (d / "authorized_keys").write_bytes((d / "client_key.pub").read_bytes())
    config = d / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\n"
        f"HostKey {d / 'host_key'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\n"
        f"PidFile {d / 'sshd.pid'}\n"
        "UsePAM no\n"
        "StrictModes no\n"
        "PermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "LogLevel ERROR\n"
    )
    server = Sshd(config, free_port(), d / "client_key")
    server.start()
    yield server
    server.kill()


@needs_journal
@needs_ssh
def test_a_remote_journal_is_read_over_ssh_and_parses_into_log_events(
    sshd: Sshd, tmp_path: Path
) -> None:
    write_journal(tmp_path / "a.journal", 0, 5)
    source = sshd.source(tmp_path)
    try:
        lines = collect(source, 5)
        assert messages(lines) == hello(0, 5)
        assert source.cursor == line_cursor(lines[-1])
        assert source.connected and source.error is None and source.unreachable_since is None
    finally:
        source.close()


@needs_journal
@needs_ssh
def test_a_quiet_remote_journal_is_connected_not_unreachable(sshd: Sshd, tmp_path: Path) -> None:
    write_journal(tmp_path / "a.journal", 0, 1)
    source = sshd.source(tmp_path, since=None)  # only new entries: none come
    try:
        assert collect(source, 0, until=lambda: source.connected) == []
        assert source.unreachable_since is None
        assert unreachable_findings([source], datetime.now(UTC) + timedelta(days=1)) == []
    finally:
        source.close()


@needs_journal
@needs_ssh
def test_ssh_reconnects_after_sshd_dies_mid_stream_with_no_line_twice_or_lost(
    sshd: Sshd, tmp_path: Path
) -> None:
    write_journal(tmp_path / "a.journal", 0, 2000)
    source = sshd.source(tmp_path, queue_lines=50, backoff_s=0.05, max_backoff_s=0.5)
    try:
        lines = collect(source, 20, max_lines=10)
        sshd.kill()
        # What already crossed the wire is still returned; then reconnects fail.
        lines += collect(
            source, 0, max_lines=10, until=lambda: source.unreachable_since is not None
        )
        assert "ssh 127.0.0.1 exited with status 255" in (source.error or "")
        assert len(lines) < 2000  # the stream was cut short: the rest comes from the cursor
        sshd.start()
        lines += collect(source, 2000 - len(lines), max_lines=100)
        write_journal(tmp_path / "b.journal", 2000, 3)
        lines += collect(source, 2003 - len(lines))
        assert source.unreachable_since is None and source.error is None
    finally:
        source.close()
    assert messages(lines) == hello(0, 2003)


@needs_ssh
def test_a_host_unreachable_longer_than_the_grace_becomes_one_finding(tmp_path: Path) -> None:
    source = SshJournaldSource(
        "127.0.0.1",
        port=free_port(),  # nothing listens there
        hostname="db-01",
        ssh_options=["StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null"],
        backoff_s=0.05,
        max_backoff_s=0.2,
    )
    local = JournaldSource(journalctl=str(tmp_path / "absent"))
    try:
        collect(source, 0, until=lambda: source.unreachable_since is not None)
    finally:
        source.close()
        local.close()
    since = source.unreachable_since
    assert since is not None
    grace = timedelta(minutes=5)
    assert source.unreachable_grace == grace  # the default `unreachable_after_s`
    assert unreachable_findings([source, local], since + grace) == []
    (finding,) = unreachable_findings([source, local], since + grace + timedelta(seconds=1))
    assert (finding.detector, finding.kind, finding.service, finding.host) == (
        "source",
        "host_unreachable",
        None,
        "db-01",
    )
    assert finding.severity is Severity.ERROR and finding.started_at == since
    assert "Connection refused" in finding.summary
    assert finding.evidence["source"] == "ssh_journald:127.0.0.1"


def test_the_remote_command_quotes_every_argument() -> None:
    source = SshJournaldSource(
        "db-01.lan",
        user="logs",
        port=2222,
        identity_file="/etc/logvigil/id_ed25519",
        units=["nginx.service"],
        extra_args=["--directory=/var/log/my journal"],
    )
    argv = source._argv("s=ab;i=1f")
    assert argv[-2:-1] == ["db-01.lan"] and argv[argv.index("-p") + 1] == "2222"
    assert argv[argv.index("-i") + 1] == "/etc/logvigil/id_ed25519"
    assert "BatchMode=yes" in argv and "ServerAliveInterval=15" in argv
    remote = argv[-1]
    assert remote.startswith("echo logvigil-ssh-connected; exec journalctl ")
    assert "'--after-cursor=s=ab;i=1f'" in remote
    assert "'--directory=/var/log/my journal'" in remote
    with pytest.raises(ValueError, match="host must be"):
        SshJournaldSource("-oProxyCommand=evil")


def test_the_ssh_journald_config_builds_a_source_named_after_its_host() -> None:
    spec = SshJournaldConfig.model_validate(
        {"type": "ssh_journald", "host": "10.0.0.5", "hostname": "db-01", "port": 2222}
    )
    source = SshJournaldSource.from_config(spec, None)
    assert (source.name, source.hostname, source.port) == ("ssh_journald:10.0.0.5", "db-01", 2222)
    assert source.unreachable_grace == timedelta(minutes=5)
    with pytest.raises(ValueError, match="host must be"):
        SshJournaldConfig.model_validate({"type": "ssh_journald", "host": "a b"})


@needs_journal
def test_a_real_journal_piped_into_backtest_opens_the_oom_incident(tmp_path: Path) -> None:
    """`journalctl -o json --since ... | logvigil backtest -` on a real journal file."""
    base = int((datetime.now(UTC) - timedelta(hours=2)).timestamp() * 1_000_000)
    records = []

    def entry(n: int, ident: str, transport: str, prio: int, message: str, **extra: str) -> str:
        fields = "".join(f"{k}={v}\n" for k, v in extra.items())
        return (
            f"__REALTIME_TIMESTAMP={base + n * 1_000_000}\n__MONOTONIC_TIMESTAMP={n}\n"
            "_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=db-01\n"
            f"SYSLOG_IDENTIFIER={ident}\n_TRANSPORT={transport}\nPRIORITY={prio}\n"
            f"{fields}MESSAGE={message}\n\n"
        )

    for i in range(600):  # ten minutes of a healthy postgres
        records.append(
            entry(i, "postgres", "stdout", 6, f"checkpoint complete: wrote {i % 40} buffers",
                  _SYSTEMD_UNIT="postgresql@15-main.service", _PID="2811")
        )  # fmt: skip
    records.append(
        entry(601, "kernel", "kernel", 3,
              "Out of memory: Killed process 2811 (postgres) total-vm:8123456kB, "
              "anon-rss:7000000kB, file-rss:0kB, shmem-rss:0kB, UID:113 pgtables:15000kB")
    )  # fmt: skip
    journal = tmp_path / "system.journal"
    export_to_journal(records, journal)
    inventory = Path(__file__).resolve().parents[2] / "inventory.yaml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOGVIGIL_")}
    env["LOGVIGIL_DATA_DIR"] = str(tmp_path / "data")
    logvigil = f"{shlex.quote(sys.executable)} -m logvigil.cli"
    out = subprocess.run(
        f"{shlex.quote(JOURNALCTL)} --file {shlex.quote(str(journal))} -o json --since -1d"
        f" | {logvigil} backtest - --json --inventory {shlex.quote(str(inventory))}",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    (incident,) = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert incident["suspected_root"] == {"service": "postgres", "host": "db-01"}
    assert [t["detector"] for t in incident["triggers"]] == ["primitive"]
    assert "oom" in incident["triggers"][0]["summary"].lower(), incident
