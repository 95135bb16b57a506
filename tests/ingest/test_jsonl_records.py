"""JSON records that are not messages: Suricata's eve.json and Zeek's JSON logs carry
fields and no message, GELF names its message `short_message`, Falco `output`. Each is
read as an event instead of being rejected; the records are the shapes the producers'
documentation shows (Suricata "EVE JSON Format", Zeek "conn.log", the GELF 1.1
specification's example, Falco's JSON output)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from logvigil.app.backtest import run_backtest
from logvigil.app.runtime import empty_inventory
from logvigil.core.events import MAX_LINE_BYTES, LogEvent, Rejected, Severity
from logvigil.ingest.formats import ReadOptions, detect_format, input_options, read_events
from logvigil.ingest.templates import TemplateMiner

OPTIONS = ReadOptions(source="eve.json", default_host="sensor", default_time=datetime.now(UTC))

EVE_ALERT = (
    '{"timestamp":"2017-04-07T22:24:37.251547+0100","flow_id":586497171462735,'
    '"pcap_cnt":53381,"event_type":"alert","src_ip":"192.168.2.14","src_port":50096,'
    '"dest_ip":"209.53.113.5","dest_port":80,"proto":"TCP","metadata":{"flowbits":'
    '["http.dottedquadhost"]},"tx_id":4,"alert":{"action":"allowed","gid":1,'
    '"signature_id":2018358,"rev":10,"signature":"ET HUNTING GENERIC SUSPICIOUS POST to '
    'Dotted Quad with Fake Browser 1","category":"Potentially Bad Traffic","severity":2},'
    '"app_proto":"http"}'
)
EVE_FLOW = (
    '{"timestamp":"2017-04-07T22:24:38.000101+0100","flow_id":586497171462736,'
    '"event_type":"flow","src_ip":"192.168.2.14","src_port":50097,"dest_ip":"8.8.8.8",'
    '"dest_port":53,"proto":"UDP","app_proto":"dns","flow":{"pkts_toserver":1,'
    '"pkts_toclient":1,"bytes_toserver":74,"bytes_toclient":90,"start":'
    '"2017-04-07T22:24:37.990101+0100","end":"2017-04-07T22:24:38.000101+0100",'
    '"age":0,"state":"established","reason":"timeout","alerted":false}}'
)
ZEEK_CONN = (
    '{"ts":1591367999.305988,"uid":"CMdzit1AMNsmfAIiQc","id.orig_h":"192.168.4.76",'
    '"id.orig_p":36844,"id.resp_h":"192.168.4.1","id.resp_p":53,"proto":"udp",'
    '"service":"dns","duration":0.06685185432434082,"orig_bytes":62,"resp_bytes":141,'
    '"conn_state":"SF","missed_bytes":0,"history":"Dd","orig_pkts":2,"orig_ip_bytes":118,'
    '"resp_pkts":2,"resp_ip_bytes":197}'
)
GELF = (
    '{"version": "1.1","host": "example.org","short_message": "A short message that helps '
    'you identify what is going on","full_message": "Backtrace here\\n\\nmore stuff",'
    '"timestamp": 1385053862.3072,"level": 1,"_user_id": 9001,"_some_info": "foo",'
    '"_some_env_var": "bar"}'
)
FALCO = (
    '{"output":"16:31:56.746609046: Error File below a known binary directory opened for '
    'writing (user=root command=touch /bin/hack file=/bin/hack)","priority":"Error",'
    '"rule":"Write below binary dir","time":"2019-05-20T16:31:56.746609046Z",'
    '"output_fields":{"evt.time":1558369916746609046,"fd.name":"/bin/hack",'
    '"proc.cmdline":"touch /bin/hack","user.name":"root"}}'
)


def read(*lines: str) -> list[LogEvent | Rejected]:
    return list(read_events([line.encode() for line in lines], "jsonl", OPTIONS))


def one(line: str) -> LogEvent:
    (e,) = read(line)
    assert isinstance(e, LogEvent), e
    return e


def test_an_eve_json_alert_is_an_event_whose_message_is_its_fields() -> None:
    e = one(EVE_ALERT)
    assert e.ts == datetime(2017, 4, 7, 21, 24, 37, 251547, tzinfo=UTC)
    assert (e.host, e.service, e.severity) == ("sensor", "unknown", Severity.INFO)
    assert e.message.startswith(
        "flow_id=586497171462735 pcap_cnt=53381 event_type=alert src_ip=192.168.2.14 "
        "src_port=50096 dest_ip=209.53.113.5 dest_port=80 proto=TCP "
        'metadata={"flowbits":["http.dottedquadhost"]} tx_id=4 alert={"action":"allowed",'
    )
    assert e.message.endswith('"severity":2} app_proto=http')
    # The fields stay attributes, as for any record.
    assert e.attributes["event_type"] == "alert" and e.attributes["src_port"] == 50096


def test_each_kind_of_record_mines_to_its_own_template_and_repeats_to_the_same() -> None:
    other_alert = EVE_ALERT.replace("586497171462735", "586497171462999").replace(
        "192.168.2.14", "10.1.1.7"
    )
    miner = TemplateMiner()
    ids = [miner.add(one(line).message).template_id for line in (EVE_ALERT, EVE_FLOW, other_alert)]
    assert ids[0] == ids[2] != ids[1]


def test_zeek_gelf_and_falco_records_read_with_their_own_keys() -> None:
    zeek = one(ZEEK_CONN)
    assert zeek.ts == datetime(2020, 6, 5, 14, 39, 59, 305988, tzinfo=UTC)
    assert zeek.message.startswith("uid=CMdzit1AMNsmfAIiQc id.orig_h=192.168.4.76 ")
    gelf = one(GELF)
    assert (gelf.host, gelf.severity) == ("example.org", Severity.ALERT)  # syslog level 1
    assert gelf.message == "A short message that helps you identify what is going on"
    assert gelf.attributes["full_message"] == "Backtrace here\\n\\nmore stuff"  # escaped
    falco = one(FALCO)
    assert falco.severity == Severity.ERROR
    assert falco.message.startswith("16:31:56.746609046: Error File below a known binary")
    assert falco.ts == datetime(2019, 5, 20, 16, 31, 56, 746609, tzinfo=UTC)


def test_auto_detection_reads_them_as_jsonl() -> None:
    assert detect_format([line.encode() for line in (EVE_ALERT, EVE_FLOW, ZEEK_CONN)]) == "jsonl"


def test_a_value_with_blanks_quotes_or_equals_signs_is_quoted_and_nulls_are_left_out() -> None:
    e = one(
        '{"ts": 1700000000, "a": "two words", "b": "k=v", "c": "say \\"hi\\"", "d": null, '
        '"e": "", "f": true, "g": 1.5}'
    )
    assert e.message == 'a="two words" b="k=v" c="say \\"hi\\"" e="" f=true g=1.5'


def test_a_record_of_nothing_but_nulls_is_rejected_naming_what_was_looked_for() -> None:
    (r,) = read('{"ts": 1700000000, "host": "db-01", "x": null}')
    assert isinstance(r, Rejected) and r.line_no == 1
    assert r.reason.startswith("missing message (none of 'message', 'msg', 'log', 'event'")
    assert r.reason.endswith("and no other field)")


def test_a_record_with_thousands_of_fields_is_cut_and_marked() -> None:
    fields = {f"k{i}": "v" * 40 for i in range(3000)}
    e = one(json.dumps({"ts": 1700000000, **fields}))
    assert len(e.message.encode()) <= MAX_LINE_BYTES
    assert e.truncated


def test_a_day_of_an_ids_alerting_on_scanners_replays_every_record_and_pages_nothing() -> None:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    lines = []
    for k in range(2 * 24 * 120):  # every 30 s for two days, a scanner's SSH probes
        t = start.timestamp() + 30 * k
        stamp = datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "+0000")
        signature = ("ET SCAN Potential SSH Scan", "ET SCAN NMAP -sS window 1024")[k % 2]
        record = json.loads(EVE_ALERT)
        record |= {"timestamp": stamp, "flow_id": 10_000 + k, "src_ip": f"203.0.113.{k % 200}"}
        record["alert"] |= {"signature": signature, "signature_id": 2001219 + k % 2}
        lines.append(json.dumps(record).encode() + b"\n")
    result = run_backtest(
        lines,
        fmt="auto",
        inventory=empty_inventory(),
        read_options=input_options("eve.json", default_time=datetime(2026, 11, 30, tzinfo=UTC)),
    )
    assert (result.summary.events, result.summary.rejected_total) == (len(lines), 0)
    assert result.incidents == []


# Time fields under other names, as the producers' documentation shows them.
NAMED_TIMES = [
    # MongoDB 4.4+ structured log: extended JSON date, one-letter severity
    (
        '{"t":{"$date":"2020-05-01T15:16:17.180+00:00"},"s":"E","c":"STORAGE","id":22435,'
        '"ctx":"initandlisten","msg":"WiredTiger error","attr":{"error":28}}',
        datetime(2020, 5, 1, 15, 16, 17, 180000, tzinfo=UTC),
        Severity.ERROR,
        "WiredTiger error",
    ),
    # log4j2 JsonLayout: the Instant object (2.11+), and timeMillis before it
    (
        '{"instant":{"epochSecond":1493121664,"nanoOfSecond":118000000},"thread":"main",'
        '"level":"INFO","loggerName":"HelloWorld","message":"Hello, world!"}',
        datetime(2017, 4, 25, 12, 1, 4, 118000, tzinfo=UTC),
        Severity.INFO,
        "Hello, world!",
    ),
    (
        '{"timeMillis":1493121664118,"thread":"main","level":"ERROR","loggerName":"HelloWorld",'
        '"message":"Hello, world!"}',
        datetime(2017, 4, 25, 12, 1, 4, 118000, tzinfo=UTC),
        Severity.ERROR,
        "Hello, world!",
    ),
    # Serilog's compact JSON (CLEF): @t, @l, @m (rendered) before @mt (its template)
    (
        '{"@t":"2016-06-07T03:44:57.8532799Z","@mt":"Hello, {User}","User":"nblumhardt"}',
        datetime(2016, 6, 7, 3, 44, 57, 853279, tzinfo=UTC),
        Severity.INFO,
        "Hello, {User}",
    ),
    (
        '{"@t":"2016-06-07T03:44:57.8532799Z","@l":"Warning","@m":"Disk at 91%",'
        '"@mt":"Disk at {Percent}%","Percent":91}',
        datetime(2016, 6, 7, 3, 44, 57, 853279, tzinfo=UTC),
        Severity.WARNING,
        "Disk at 91%",
    ),
    # Fluent Bit's json output: `date`, epoch seconds
    (
        '{"date":1599151231.5,"log":"hello from fluent bit"}',
        datetime(2020, 9, 3, 16, 40, 31, 500000, tzinfo=UTC),
        Severity.INFO,
        "hello from fluent bit",
    ),
    # OpenCanary: `local_time` first, `utc_time` later: the one saying UTC is the time
    (
        '{"dst_host":"10.0.0.2","dst_port":22,"local_time":"2019-05-20 14:00:00.123456",'
        '"logdata":{"USERNAME":"root"},"logtype":4002,"node_id":"canary-1",'
        '"src_host":"203.0.113.5","utc_time":"2019-05-20 12:00:00.123456"}',
        datetime(2019, 5, 20, 12, 0, 0, 123456, tzinfo=UTC),
        Severity.INFO,
        'dst_host=10.0.0.2 dst_port=22 local_time="2019-05-20 14:00:00.123456" ',
    ),
]


@pytest.mark.parametrize(
    ("line", "ts", "severity", "message"), NAMED_TIMES, ids=[n[0][:24] for n in NAMED_TIMES]
)
def test_a_time_field_under_another_name_is_the_time(
    line: str, ts: datetime, severity: Severity, message: str
) -> None:
    e = one(line)
    assert (e.ts, e.severity) == (ts, severity)
    assert e.message.startswith(message)


# Nextcloud's nextcloud.log (lib/private/Log/LogDetails.php), as its admin manual shows
# it: `level` is ILogger's scale (0 debug, 1 info, 2 warn, 3 error, 4 fatal), not syslog's
NEXTCLOUD = (
    '{{"reqId":"YlNsEh7LeN5l0bOfqCVl","level":{level},"time":"2026-03-04T10:00:00+00:00",'
    '"remoteAddr":"192.168.1.20","user":"admin","app":"core","method":"GET",'
    '"url":"/index.php/apps/files/","message":"Could not detect any host",'
    '"userAgent":"Mozilla/5.0","version":"27.1.3.2"}}'
)


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        (0, Severity.DEBUG),
        (1, Severity.INFO),
        (2, Severity.WARNING),
        (3, Severity.ERROR),
        (4, Severity.CRITICAL),
    ],
)
def test_nextclouds_levels_are_its_own_not_syslogs(level: int, severity: Severity) -> None:
    e = one(NEXTCLOUD.format(level=level))
    assert (e.severity, e.service, e.message) == (severity, "core", "Could not detect any host")
    assert e.attributes["reqId"] == "YlNsEh7LeN5l0bOfqCVl"


def test_a_small_level_without_nextclouds_request_id_is_syslogs() -> None:
    # GELF's `level` is syslog's (0 emergency ... 7 debug); so is any other record's
    gelf = '{"version":"1.1","host":"web-01","short_message":"disk full","timestamp":1385053862.3072,"level":2}'
    assert one(gelf).severity is Severity.CRITICAL
    # a Nextcloud-like record whose level is beyond ILogger's scale, or a text
    beyond = NEXTCLOUD.format(level=6)
    assert one(beyond).severity is Severity.INFO
    text = NEXTCLOUD.format(level='"error"')
    assert one(text).severity is Severity.ERROR


def test_a_kubernetes_audit_event_takes_its_first_timestamp_and_keeps_the_rest() -> None:
    e = one(
        '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1b2",'
        '"stage":"ResponseComplete","requestURI":"/api/v1/namespaces","verb":"list",'
        '"requestReceivedTimestamp":"2021-01-01T00:00:00.000000Z",'
        '"stageTimestamp":"2021-01-01T00:00:00.010000Z"}'
    )
    assert e.ts == datetime(2021, 1, 1, tzinfo=UTC)
    assert e.attributes["stageTimestamp"] == "2021-01-01T00:00:00.010000Z"
    # An audit level is no severity: kept, flagged, and the event is INFO.
    assert (e.severity, e.attributes["_unknown_severity"]) == (Severity.INFO, "Metadata")


def test_a_field_s_that_is_no_mongodb_severity_stays_a_field() -> None:
    e = one('{"ts": 1700000000, "s": "started", "msg": "x"}')
    assert (e.severity, e.attributes["s"]) == (Severity.INFO, "started")
