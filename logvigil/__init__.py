"""LogVigil: what belongs to none of the design card's packages.

`core` (shared values and helpers, the bottom layer), `store` (the database),
`ingest` (bytes in, stored events and counts out), `app` (settings, runtime, the
daemon, backtest), `evaluation` (the demo and the scenario scoring) and `cli` (the
commands, the top layer). docs/architecture.md shows how they stack with `graph`,
`migrations`, `detector`, `investigate` and `notify`.
"""
