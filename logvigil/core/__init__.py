"""Values and helpers every layer shares; this package imports nothing of LogVigil's.

`events` (LogEvent, Rejected, Severity), `findings` (Finding), `timeutil` (UTC,
ISO 8601 and the wall clock), `configbase` (the one `Strict` config base),
`yamlfile` (located YAML and `ConfigError`), `redact` (secrets out of text),
`text` (printable, one-line, mention-proof text) and `jsonable`.
"""
