"""A remote journal pulled over SSH: the hub runs `ssh host journalctl -o json --follow`.

The system's own `ssh` client runs with the keys and `~/.ssh/config` of the user
running the daemon, in batch mode (never a password prompt). The remote
machine needs no agent and never learns where the hub is; it only needs
`journalctl` and a user allowed to read the journal (root, or a member of
`systemd-journal` / `adm`).

The remote command first prints `MARKER`, then `exec`s journalctl: the marker
tells a connection that works but is quiet from one that never got through.
ssh exits 255 on its own errors: a connection that cannot be made (exit 255
before the marker) makes the host unreachable since the connection was lost
(or since the first attempt). The daemon records that in the source's health
in the store, and the `host_unreachable` detector turns a host unreachable for
longer than its grace into a finding.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from logvigil.core.timeutil import wall_clock
from logvigil.ingest.sources.base import RemoteReach, SourceConfig
from logvigil.ingest.sources.journald import (
    MAX_BACKOFF_S,
    QUEUE_LINES,
    JournalProcess,
    position_args,
)

#: Printed by the remote shell before journalctl starts: the connection works.
MARKER = b"logvigil-ssh-connected\n"
#: ssh's exit status for its own errors (connection refused, timeout, auth failed).
SSH_FAILED = 255
#: How long a host may be unreachable before it is a finding.
UNREACHABLE_GRACE = timedelta(minutes=5)
#: ssh -o ConnectTimeout: an attempt to a host that drops packets fails after this.
CONNECT_TIMEOUT_S = 10

_HOST = re.compile(r"[A-Za-z0-9_.:\[\]%-]+")


class SshJournaldConfig(SourceConfig):
    """`type: ssh_journald`: a remote machine's journal, pulled with the system's ssh."""

    type: Literal["ssh_journald"]
    host: str = Field(description="what ssh connects to (a name, an address or a Host alias)")
    user: str | None = Field(default=None, description="default: ssh's (~/.ssh/config)")
    port: int | None = Field(default=None, gt=0, lt=65536)
    identity_file: Path | None = Field(default=None, description="a private key for ssh -i")
    hostname: str | None = Field(
        default=None, description="the host's inventory name in findings; default: host"
    )
    name: str | None = Field(
        default=None, description="the cursor is stored under it; default ssh_journald:HOST"
    )
    units: list[str] = Field(default_factory=list)
    since: str | None = "-1h"
    journalctl: str = Field(default="journalctl", description="on the remote machine")
    extra_args: list[str] = Field(default_factory=list, description="for the remote journalctl")
    ssh_options: list[str] = Field(default_factory=list, description="extra ssh -o options")
    connect_timeout_s: int = Field(default=CONNECT_TIMEOUT_S, gt=0, le=3600)
    unreachable_after_s: int = Field(
        default=int(UNREACHABLE_GRACE.total_seconds()),
        gt=0,
        le=7 * 24 * 3600,
        description="a host unreachable this long becomes a host_unreachable finding",
    )

    @field_validator("host")
    @classmethod
    def _plain_host(cls, v: str) -> str:
        if not _HOST.fullmatch(v) or v.startswith("-"):
            raise ValueError(f"host must be a host name or address, got: {v!r}")
        return v

    @property
    def source_name(self) -> str:
        return self.name or f"ssh_journald:{self.host}"


class SshJournaldSource(JournalProcess):
    """`journalctl -o json --follow` on `host`, through `ssh [-p PORT] [-i KEY]`.

    `hostname` is the host's name in findings (its inventory name); default
    `host`. `ssh_options` are extra `-o` options (`StrictHostKeyChecking=...`).
    `journalctl`, `units`, `since` and `extra_args` are as for the local source
    and run on the remote machine. Reconnects back off exponentially up to
    `max_backoff_s`; `unreachable_since` is when the host stopped being
    reachable (None while connected or before the first failure).
    """

    config_model: ClassVar[type[SourceConfig]] = SshJournaldConfig

    def __init__(
        self,
        host: str,
        cursor: str | None = None,
        *,
        user: str | None = None,
        port: int | None = None,
        identity_file: Path | str | None = None,
        units: Sequence[str] = (),
        since: str | None = "-1h",
        name: str | None = None,
        hostname: str | None = None,
        journalctl: str = "journalctl",
        extra_args: Sequence[str] = (),
        ssh: str = "ssh",
        ssh_options: Sequence[str] = (),
        connect_timeout_s: int = CONNECT_TIMEOUT_S,
        unreachable_grace: timedelta = UNREACHABLE_GRACE,
        clock: Callable[[], datetime] = wall_clock,
        queue_lines: int = QUEUE_LINES,
        backoff_s: float = 1.0,
        max_backoff_s: float = MAX_BACKOFF_S,
    ) -> None:
        if not _HOST.fullmatch(host) or host.startswith("-"):
            raise ValueError(f"host must be a host name or address, got: {host!r}")
        super().__init__(
            name or f"ssh_journald:{host}",
            cursor,
            queue_lines=queue_lines,
            backoff_s=backoff_s,
            max_backoff_s=max_backoff_s,
        )
        self.host = host
        self.hostname = hostname or host
        self.user = user
        self.port = port
        self.identity_file = Path(identity_file) if identity_file is not None else None
        self.units = tuple(units)
        self.since = since
        self.journalctl = journalctl
        self.extra_args = tuple(extra_args)
        self.ssh = ssh
        self.ssh_options = tuple(ssh_options)
        self.connect_timeout_s = connect_timeout_s
        self.unreachable_grace = unreachable_grace
        self.unreachable_since: datetime | None = None
        self._clock = clock
        self._connected = False  # the running ssh printed the marker
        self._down_since: datetime | None = None  # last connection lost / first attempt

    @classmethod
    def from_config(cls, spec: SshJournaldConfig, cursor: str | None) -> SshJournaldSource:
        return cls(
            spec.host,
            cursor,
            user=spec.user,
            port=spec.port,
            identity_file=spec.identity_file,
            units=spec.units,
            since=spec.since,
            name=spec.source_name,
            hostname=spec.hostname,
            journalctl=spec.journalctl,
            extra_args=spec.extra_args,
            ssh_options=spec.ssh_options,
            connect_timeout_s=spec.connect_timeout_s,
            unreachable_grace=timedelta(seconds=spec.unreachable_after_s),
        )

    def reach(self) -> RemoteReach:
        """The remote host (its inventory name) and since when ssh cannot reach it."""
        return RemoteReach(self.hostname, self.unreachable_since, self.unreachable_grace)

    @property
    def connected(self) -> bool:
        """Whether the running ssh got through (printed the marker)."""
        return self._connected

    def remote_command(self, cursor: str | None) -> str:
        """The command line the remote shell runs; every argument is shell-quoted."""
        argv = [self.journalctl, "--output=json", "--no-pager", "--follow"]
        argv += [f"--unit={unit}" for unit in self.units]
        argv += position_args(cursor, self.since, follow=True)
        argv += self.extra_args
        marker = MARKER.decode().strip()
        return f"echo {marker}; exec {shlex.join(argv)}"

    def _argv(self, cursor: str | None) -> list[str]:
        argv = [
            self.ssh,
            "-T",
            "-o",
            "BatchMode=yes",
            "-o",
            "ServerAliveInterval=15",
            "-o",
            "ServerAliveCountMax=3",
            "-o",
            f"ConnectTimeout={self.connect_timeout_s}",
        ]
        if self.port is not None:
            argv += ["-p", str(self.port)]
        if self.identity_file is not None:
            argv += ["-i", str(self.identity_file), "-o", "IdentitiesOnly=yes"]
        for option in self.ssh_options:
            argv += ["-o", option]
        if self.user is not None:
            argv += ["-l", self.user]
        return [*argv, "--", self.host, self.remote_command(cursor)]

    def _what(self) -> str:
        return f"ssh {self.host}"

    def _on_started(self) -> None:
        self._connected = False
        if self._down_since is None:
            self._down_since = self._clock()

    def _on_marker(self, line: bytes) -> bool:
        if self._connected or line != MARKER:
            return False
        self._connected = True
        self._down_since = None
        self.unreachable_since = None
        self.error = None
        return True

    def _on_exit(self, returncode: int, stderr: str) -> None:
        super()._on_exit(returncode, stderr)
        if self._connected:
            self._connected = False
            if returncode == SSH_FAILED:
                self._down_since = self._clock()  # the connection was lost just now
            return
        if returncode == SSH_FAILED and self.unreachable_since is None:
            self.unreachable_since = self._down_since or self._clock()
