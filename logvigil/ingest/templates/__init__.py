"""Template mining: mask the variables of a log message and group it with
the messages of the same kind under a stable integer id.

`TemplateMiner` is the one entry point; `docs/templates.md` explains the
masks, the grouping, the stability guarantee and the measured numbers.
"""

from logvigil.ingest.templates.miner import Match, MinerConfig, TemplateMiner

__all__ = ["Match", "MinerConfig", "TemplateMiner"]
