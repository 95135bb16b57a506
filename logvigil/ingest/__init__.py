"""Intake: raw lines in, stored events, templates and per-minute counts out.

`inputs` opens files and stdin, `formats` parses lines into `LogEvent`s, `severity`
raises a declared level by an explicit token, `noise` drops or downgrades noise,
`templates` mines template ids, `sources` are the daemon's live sources and
`ingestor` writes batches into the store.
"""
