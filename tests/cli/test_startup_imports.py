"""Every command pays for what `import logvigil.cli` loads: the libraries only a few
commands need (numpy for a semantic search, requests to ask a server) are loaded by
those commands, not at start-up (about 0.2 s of every command's 1.5 s here)."""

from __future__ import annotations

import subprocess
import sys

#: Top-level packages that no command needs before it runs.
DEFERRED = ("numpy", "requests", "urllib3", "crewai", "litellm", "apscheduler")


def test_starting_the_command_line_loads_no_heavy_library_it_does_not_use() -> None:
    code = (
        "import sys, logvigil.cli; "
        f"bad = sorted({{m.split('.')[0] for m in sys.modules}} & set({DEFERRED!r})); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
