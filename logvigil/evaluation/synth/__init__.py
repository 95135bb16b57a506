"""A synthetic homelab's logs, with faults injected on demand: deterministic and realistic.

Four hosts (`db-01`, `web-01`, `nas-01`, `pi-01`) run the services of the
example `inventory.yaml`: postgres, redis, nextcloud, gitea, nginx, nfs, backup
jobs, pi-hole DNS, sshd and the kernel. Traffic follows the time of day (busy
afternoons, quiet nights); monitoring health checks give some services a
steady cadence; every service has its usual chatter, and some have a low,
steady rate of warnings and errors (nextcloud a few an hour) so that a spike
detector has a real baseline. The noise that drowns people, sshd brute force
and web-scanner probes, is always mixed in.

A `Fault` injects one failure: the lines it adds (the messages the real
software writes) and the lines it silences. Injecting faults never changes
the other lines: the baseline draws from its own random stream and each fault
from a stream of its own, so a scenario differs from its fault-free twin only
where the fault acts. Given the same seed, start and faults, the output is
byte-identical.

Lines carry the identifier the real software logs under (`redis-server`,
`pihole-FTL`, `rpc.mountd`, `restic`), not the inventory's service name:
attribution maps them, as it would on a real journal.

The machines live as well: they reboot (cleanly, or after a crash), suspend
and resume, each in the words of its distribution, and their daemons write
their start-up and shut-down lines.

The public names are here; `homelab` holds the normal traffic, `faults` the
fault kinds, `machines` and `daemons` the hosts' shutdowns, boots and
suspends, `storms` the trouble that lasts (an internet-facing sshd, an sshd
that cannot bind, an OOM storm), `generator` what assembles them.
"""

from logvigil.evaluation.synth.faults import Fault, FaultKind
from logvigil.evaluation.synth.generator import generate, generate_jsonl
from logvigil.evaluation.synth.homelab import (
    DEMO_START,
    HOSTS,
    IDENTIFIERS,
    MINUTE,
    SERVICE_HOSTS,
    Line,
    activity,
)

__all__ = [
    "DEMO_START",
    "HOSTS",
    "IDENTIFIERS",
    "MINUTE",
    "SERVICE_HOSTS",
    "Fault",
    "FaultKind",
    "Line",
    "activity",
    "generate",
    "generate_jsonl",
]
