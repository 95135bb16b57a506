"""A structured logger writes the error beside the message: zap's `zap.Error(err)` and
logrus' `WithError` as `error`, slog's and go-kit's convention `err`, pino's and bunyan's
serialised error as an `err` object with its `message`. The message of such a record is
told as Go wraps an error (`msg: error`), so that its template and the primitives see
why it failed, as they do in a text line.

The etcd line is the shape of etcd's raft loop dying on a full disk (server/etcdserver/
raft.go: `lg.Fatal("failed to save Raft hard state and entries", zap.Error(err))`, zap's
JSON encoder); the pino one is pino's `err` serialiser's (`type`, `message`, `stack`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detector.detectors.primitive_library import classify
from logvigil.app.backtest import run_backtest
from logvigil.app.runtime import empty_inventory
from logvigil.core.events import MAX_LINE_BYTES, LogEvent, Severity
from logvigil.ingest.formats import ReadOptions, input_options, read_events
from logvigil.ingest.templates import TemplateMiner

OPTIONS = ReadOptions(source="etcd.json", default_time=datetime(2026, 12, 1, tzinfo=UTC))
ETCD_DISK_FULL = (
    '{"level":"fatal","ts":"2026-11-30T10:00:07.123Z","caller":"etcdserver/raft.go:271",'
    '"msg":"failed to save Raft hard state and entries","error":"write /var/lib/etcd/member/'
    'wal/00000000000000a7-0000000000c8f4b9.wal: no space left on device"}'
)
PINO_EMFILE = (
    '{"level":50,"time":1764496807123,"pid":657,"hostname":"web-2","msg":"request errored",'
    '"err":{"type":"Error","message":"EMFILE: too many open files, open \'/srv/app/x.json\'",'
    '"stack":"Error: EMFILE: too many open files\\n    at Object.openSync (node:fs:601:3)"}}'
)


def read(*lines: str) -> list[LogEvent]:
    events = list(read_events([line.encode() for line in lines], "jsonl", OPTIONS))
    assert all(isinstance(e, LogEvent) for e in events), events
    return events  # type: ignore[return-value]


def test_the_error_beside_the_message_is_told_after_it_and_leaves_the_attributes() -> None:
    (e,) = read(ETCD_DISK_FULL)
    assert e.message == (
        "failed to save Raft hard state and entries: write /var/lib/etcd/member/wal/"
        "00000000000000a7-0000000000c8f4b9.wal: no space left on device"
    )
    assert e.severity is Severity.CRITICAL and "error" not in e.attributes
    assert e.attributes["caller"] == "etcdserver/raft.go:271"


def test_an_error_object_gives_its_message_and_keeps_its_stack() -> None:
    (e,) = read(PINO_EMFILE)
    assert e.message == "request errored: EMFILE: too many open files, open '/srv/app/x.json'"
    assert "Object.openSync" in e.attributes["err"]


def test_an_err_string_an_ecs_error_and_what_is_no_error_text() -> None:
    slog, ecs, empty, said, number = read(
        '{"time":"2026-11-30T10:00:00Z","level":"ERROR","msg":"query failed",'
        '"err":"dial tcp 10.0.0.5:5432: connect: connection refused"}',
        '{"@timestamp":"2026-11-30T10:00:01Z","log.level":"error","message":"upload failed",'
        '"error.message":"read-only file system"}',
        '{"ts":"2026-11-30T10:00:02Z","level":"error","msg":"retrying","error":" "}',
        '{"ts":"2026-11-30T10:00:03Z","level":"error","msg":"EOF while reading","error":"EOF"}',
        '{"ts":"2026-11-30T10:00:04Z","level":"error","msg":"exit","error":3}',
    )
    assert slog.message == "query failed: dial tcp 10.0.0.5:5432: connect: connection refused"
    assert ecs.message == "upload failed: read-only file system"
    assert (empty.message, empty.attributes["error"]) == ("retrying", " ")
    assert said.message == "EOF while reading"  # the message already says it
    assert (number.message, number.attributes["error"]) == ("exit", 3)


def test_the_template_of_such_a_record_is_the_primitive_it_describes() -> None:
    miner = TemplateMiner()
    etcd, pino = (miner.add(e.message).template for e in read(ETCD_DISK_FULL, PINO_EMFILE))
    assert (classify(etcd).name, classify(pino).name) == ("disk_full", "too_many_open_files")


def test_a_replayed_etcd_log_pages_its_full_disk_as_a_full_disk() -> None:
    start = datetime(2026, 11, 30, 8, tzinfo=UTC)
    lines = []
    for k in range(120):  # two quiet hours of a member applying entries
        at = (start + timedelta(minutes=k)).isoformat().replace("+00:00", "Z")
        lines.append(
            f'{{"level":"info","ts":"{at}","caller":"etcdserver/server.go:1368",'
            f'"msg":"triggering snapshot","local-member-applied-index":{1000 * k}}}'
        )
    lines.append(ETCD_DISK_FULL)
    result = run_backtest(
        [line.encode() + b"\n" for line in lines],
        fmt="jsonl",
        inventory=empty_inventory(),
        read_options=input_options("etcd.json", default_time=datetime(2026, 12, 1, tzinfo=UTC)),
    )
    (incident,) = result.incidents
    (trigger,) = incident["triggers"]
    assert trigger["detector"] == "primitive" and "disk full" in trigger["summary"]


def test_a_hostile_error_is_escaped_and_cut_as_a_message_is() -> None:
    controls, huge = read(
        '{"ts":"2026-11-30T10:00:00Z","msg":"m","error":"a\\nb\\u0000c\\u202ed"}',
        '{"ts":"2026-11-30T10:00:01Z","msg":"m","error":"' + "x" * 200_000 + '"}',
    )
    assert controls.message.startswith("m: a") and controls.message.isprintable()
    assert "\n" not in controls.message and "\x00" not in controls.message
    assert huge.truncated and len(huge.message.encode()) <= MAX_LINE_BYTES


def test_only_the_first_line_of_an_error_with_a_stack_joins_the_message() -> None:
    # winston's and pino's error as a string with its stack: the message says the error,
    # the frames (a new set for every call path) stay out of the template.
    (e,) = read(
        '{"level":"error","timestamp":"2026-11-30T10:00:00.000Z","message":"unhandled",'
        '"error":"Error: connect ECONNREFUSED 127.0.0.1:6379\\n    at TCPConnectWrap.'
        'afterConnect [as oncomplete] (node:net:1555:16)"}'
    )
    assert e.message == "unhandled: Error: connect ECONNREFUSED 127.0.0.1:6379"
    assert "TCPConnectWrap" in e.attributes["error"]


# MongoDB 4.4 and later (its structured log): a WiredTiger write failing on a full disk
# (id 22435, the errno in `attr.error`, WiredTiger's text in `attr.message`), and a
# Status in `attr.error` as MongoDB renders one.
MONGODB_DISK_FULL = (
    '{"t":{"$date":"2021-03-02T10:00:00.123+00:00"},"s":"E","c":"STORAGE","id":22435,'
    '"ctx":"Checkpointer","msg":"WiredTiger error","attr":{"error":28,"message":'
    '"[1614679200:123456][1:0x7f3c2a1b0700], file:WiredTiger.wt, WT_SESSION.checkpoint: '
    "__posix_file_write, 615: /data/db/WiredTiger.wt: handle-write: pwrite: failed to write "
    '4096 bytes at offset 0: No space left on device"}}'
)
MONGODB_STATUS = (
    '{"t":{"$date":"2021-03-02T10:00:01.000+00:00"},"s":"W","c":"NETWORK","id":21207,'
    '"ctx":"ReplicaSetMonitor-TaskExecutor","msg":"Unable to reach primary for set",'
    '"attr":{"replicaSet":"rs0","error":{"code":133,"codeName":"FailedToSatisfyReadPreference",'
    '"errmsg":"Could not find host matching read preference { mode: \\"primary\\" } for set rs0"}}}'
)


def test_mongodbs_error_in_its_attributes_is_told_after_the_message() -> None:
    disk, status = read(MONGODB_DISK_FULL, MONGODB_STATUS)
    assert disk.message.startswith("WiredTiger error: [1614679200:123456]")
    assert disk.message.endswith("failed to write 4096 bytes at offset 0: No space left on device")
    assert disk.severity is Severity.ERROR and disk.attributes["attr"].startswith('{"error":28,')
    assert status.message == (
        "Unable to reach primary for set: FailedToSatisfyReadPreference: Could not find host "
        'matching read preference { mode: "primary" } for set rs0'
    )
    assert classify(TemplateMiner().add(disk.message).template).name == "disk_full"


def test_mongodb_attributes_without_an_error_add_nothing() -> None:
    accepted, message_only, no_errmsg = read(
        '{"t":{"$date":"2021-03-02T10:00:02.000+00:00"},"s":"I","c":"NETWORK","id":22943,'
        '"ctx":"listener","msg":"Connection accepted","attr":{"remote":"10.0.0.5:51234"}}',
        # WiredTiger's informational messages (id 22430) carry no errno
        '{"t":{"$date":"2021-03-02T10:00:03.000+00:00"},"s":"I","c":"STORAGE","id":22430,'
        '"ctx":"initandlisten","msg":"WiredTiger message","attr":{"message":"[1:2], txn-recover: '
        'Recovering log 5 through 6"}}',
        '{"t":{"$date":"2021-03-02T10:00:04.000+00:00"},"s":"W","c":"REPL","id":1,"ctx":"x",'
        '"msg":"odd","attr":{"error":{"code":6}}}',
    )
    assert [e.message for e in (accepted, message_only, no_errmsg)] == [
        "Connection accepted",
        "WiredTiger message",
        "odd",
    ]


def test_a_hostile_mongodb_error_is_escaped_and_cut_as_a_message_is() -> None:
    controls, huge = read(
        '{"t":{"$date":"2021-03-02T10:00:05.000+00:00"},"s":"E","c":"-","id":1,"ctx":"x",'
        '"msg":"m","attr":{"error":"a\\nb\\u0000c\\u202ed"}}',
        '{"t":{"$date":"2021-03-02T10:00:06.000+00:00"},"s":"E","c":"-","id":1,"ctx":"x",'
        '"msg":"m","attr":{"error":{"codeName":"X","errmsg":"' + "y" * 200_000 + '"}}}',
    )
    assert controls.message == "m: a" and controls.message.isprintable()
    assert huge.truncated and len(huge.message.encode()) <= MAX_LINE_BYTES
    assert huge.message.startswith("m: X: yyy")
