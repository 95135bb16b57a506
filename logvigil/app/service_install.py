"""`logvigil install-service`: the systemd unit and what it needs, as a list of steps.

`plan()` decides every step from the machine's current state without changing
anything (so `--dry-run` prints exactly what a real run does); `apply()`
carries the steps out in order and stops at the first failure. The unit is
`deploy/logvigil.service` of the checkout, with the install prefix, user and
config path filled in.
"""

from __future__ import annotations

import grp
import pwd
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
UNIT_TEMPLATE = CHECKOUT / "deploy" / "logvigil.service"
EXAMPLE_CONFIG = CHECKOUT / "deploy" / "logvigil.yaml"
EXAMPLE_INVENTORY = CHECKOUT / "inventory.yaml"
#: Groups that may read the journal and /var/log, joined when they exist.
LOG_GROUPS = ("systemd-journal", "adm")
DEFAULT_PREFIX = Path("/opt/logvigil")
STATE_DIR = Path("/var/lib/logvigil")


class InstallError(Exception):
    """The service cannot be installed as asked; the message says why."""


@dataclass(frozen=True)
class Step:
    """One action: a command to run, or a file to write (`content`, `mode`)."""

    what: str
    command: tuple[str, ...] = ()
    path: Path | None = None
    content: str | None = None
    mode: int = 0o644

    def describe(self) -> str:
        if self.command:
            return f"{self.what}: {shlex.join(self.command)}"
        return f"{self.what}: write {self.path} (mode {self.mode:o})"


def render_unit(template: str, *, prefix: Path, user: str, config_dir: Path) -> str:
    """The unit of `template` (deploy/logvigil.service) for this install."""
    text = template.replace(str(DEFAULT_PREFIX), str(prefix))
    text = text.replace("/etc/logvigil", str(config_dir))
    lines = []
    for line in text.splitlines():
        if line.startswith("User="):
            line = f"User={user}"
        elif line.startswith("Group="):
            line = f"Group={user}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def plan(
    *,
    user: str = "logvigil",
    prefix: Path = DEFAULT_PREFIX,
    config_dir: Path = Path("/etc/logvigil"),
    unit_dir: Path = Path("/etc/systemd/system"),
    template: Path = UNIT_TEMPLATE,
) -> list[Step]:
    """The steps that install the service on this machine. Changes nothing.

    Raises InstallError when the unit template or the prefix's `logvigil` is missing.
    """
    if not user or not user.replace("-", "").replace("_", "").isalnum():
        raise InstallError(f"--user must be a plain user name, got: {user!r}")
    try:
        unit = render_unit(template.read_text(), prefix=prefix, user=user, config_dir=config_dir)
    except OSError as exc:
        raise InstallError(f"cannot read the unit template {template}: {exc.strerror}") from None
    exe = prefix / ".venv" / "bin" / "logvigil"
    if not exe.exists():
        raise InstallError(
            f"{exe} does not exist: install the checkout there first "
            f"(cd {prefix} && uv sync --locked --no-dev), or give --prefix"
        )
    steps: list[Step] = []
    if not _user_exists(user):
        steps.append(
            Step(
                "create the service user",
                (
                    "useradd",
                    "--system",
                    "--user-group",
                    "--home-dir",
                    str(STATE_DIR),
                    "--shell",
                    "/usr/sbin/nologin",
                    user,
                ),
            )
        )
    groups = [g for g in LOG_GROUPS if _group_exists(g)]
    if groups:
        steps.append(
            Step("let it read the journal and /var/log", ("usermod", "-aG", ",".join(groups), user))
        )
    steps.append(
        Step(
            "create the state directory",
            ("install", "-d", "-m", "0750", "-o", user, "-g", user, str(STATE_DIR)),
        )
    )
    steps.append(
        Step("create the config directory", ("install", "-d", "-m", "0755", str(config_dir)))
    )
    for source, name in ((EXAMPLE_CONFIG, "logvigil.yaml"), (EXAMPLE_INVENTORY, "inventory.yaml")):
        target = config_dir / name
        if not target.exists() and source.exists():
            steps.append(
                Step(
                    f"install the example {name}",
                    ("install", "-m", "0644", str(source), str(target)),
                )
            )
    steps.append(Step("install the unit", path=unit_dir / "logvigil.service", content=unit))
    steps.append(Step("reload systemd", ("systemctl", "daemon-reload")))
    return steps


def apply(steps: list[Step]) -> None:
    """Carry out `steps` in order. Raises InstallError at the first that fails."""
    for step in steps:
        if step.command:
            try:
                done = subprocess.run(step.command, capture_output=True, text=True, check=False)
            except OSError as exc:
                raise InstallError(f"{step.describe()} failed: {exc.strerror}") from None
            if done.returncode != 0:
                raise InstallError(
                    f"{step.describe()} failed ({done.returncode}): {done.stderr.strip()}"
                )
        elif step.path is not None and step.content is not None:
            try:
                step.path.parent.mkdir(parents=True, exist_ok=True)
                step.path.write_text(step.content)
                step.path.chmod(step.mode)
            except OSError as exc:
                raise InstallError(f"{step.describe()} failed: {exc.strerror}") from None
